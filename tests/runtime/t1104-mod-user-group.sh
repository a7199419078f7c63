#!/bin/sh
# tests/runtime/t1104-mod-user-group.sh: user and group edit /etc/passwd, /etc/shadow,
# /etc/group and /etc/gshadow directly (no useradd on busybox): exact file contents, next
# free ids, supplementary groups (exact or append), home made, password never shown.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"
printf 'root:*::\nadm:*::\nstaff:*::\n' >"$ROOT/etc/gshadow"
SOURCE_DATE_EPOCH=1700000000 # day 19675
export SOURCE_DATE_EPOCH

# expect_file PATH TEXT
expect_file()
{
	printf "$2" >want
	cmp -s want "$ROOT$1" || fail "$1 differs: $(diff want "$ROOT$1")"
}

idempotent group '{"name":"wheel","system":true}'
idempotent group '{"name":"devs"}'
idempotent group '{"name":"ops","gid":2000}'
expect_file /etc/group 'root:x:0:\ndaemon:x:1:\nadm:x:4:\nstaff:x:50:\nusers:x:100:\nnogroup:x:65534:\nwheel:x:999:\ndevs:x:1000:\nops:x:2000:\n'
expect_file /etc/gshadow 'root:*::\nadm:*::\nstaff:*::\nwheel:!::\ndevs:!::\nops:!::\n'
mod group '{"name":"ops","gid":1000}'
expect_status failed
expect_match res 'gid 1000'
mod group '{"name":"Bad:name"}'
expect_status failed

idempotent user '{"name":"deploy","groups":["wheel","adm"],"shell":"/bin/ash","comment":"Deploy Bot","password":"$6$salt$hashhashhash"}'
# a regular user after the highest id in use, its own group with gid = uid when free
expect_file /etc/passwd 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\ndeploy:x:1000:2001:Deploy Bot:/home/deploy:/bin/ash\n'
expect_file /etc/group 'root:x:0:\ndaemon:x:1:\nadm:x:4:deploy\nstaff:x:50:\nusers:x:100:\nnogroup:x:65534:\nwheel:x:999:deploy\ndevs:x:1000:\nops:x:2000:\ndeploy:x:2001:\n'
expect_file /etc/shadow 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\ndeploy:$6$salt$hashhashhash:19675:0:99999:7:::\n'
expect_file /etc/gshadow 'root:*::\nadm:*::deploy\nstaff:*::\nwheel:!::deploy\ndevs:!::\nops:!::\ndeploy:!::\n'
[ "$(stat -c '%a %u %g' "$ROOT/home/deploy")" = "755 1000 2001" ] || fail "home: $(stat -c '%a %u %g' "$ROOT/home/deploy")"
[ "$(stat -c '%a' "$ROOT/etc/shadow")" = 640 ] || fail "shadow's mode changed"

# the password never shows, in check, diff or message
mod --check --diff user '{"name":"deploy","password":"$6$other$secretsecret"}'
expect_status changed
expect_no_match res 'secretsecret|hashhashhash' "the password hash shows in the result"
grep -q 'hashhashhash' "$ROOT/etc/shadow" || fail "check mode changed the password"
mod --diff user '{"name":"deploy","password":"$6$other$secretsecret"}'
expect_status changed
expect_no_match res 'secretsecret|hashhashhash' "the password hash shows in the result"
expect_match res 'password of deploy'
expect_match "$ROOT/etc/shadow" '^deploy:\$6\$other\$secretsecret:19675:0:99999:7:::$'

# groups exactly (leaves adm), then append
idempotent user '{"name":"deploy","groups":["devs"]}'
expect_match "$ROOT/etc/group" '^devs:x:1000:deploy$'
expect_match "$ROOT/etc/group" '^adm:x:4:$'
expect_match "$ROOT/etc/group" '^wheel:x:999:$'
expect_match "$ROOT/etc/gshadow" '^devs:!::deploy$'
idempotent user '{"name":"deploy","groups":["staff"],"append":true}'
expect_match "$ROOT/etc/group" '^devs:x:1000:deploy$'
expect_match "$ROOT/etc/group" '^staff:x:50:deploy$'
mod user '{"name":"deploy","groups":["nosuch"]}'
expect_status failed
expect_match res "group 'nosuch' does not exist"

# a system user: uid below 1000, from the top; primary group given; no aging
idempotent user '{"name":"svc","system":true,"group":"users","create_home":false,"shell":"/usr/sbin/nologin","home":"/var/lib/svc"}'
expect_match "$ROOT/etc/passwd" '^svc:x:999:100::/var/lib/svc:/usr/sbin/nologin$'
expect_match "$ROOT/etc/shadow" '^svc:!:19675::::::$'
[ ! -e "$ROOT/var/lib/svc" ] || fail "create_home = false made a home"

# changes to an existing account
idempotent user '{"name":"svc","shell":"/bin/sh","uid":990}'
expect_match "$ROOT/etc/passwd" '^svc:x:990:100::/var/lib/svc:/bin/sh$'
mod user '{"name":"svc","uid":1000}'
expect_status failed
expect_match res 'uid 1000'
mod user '{"name":"svc","comment":"a:b"}'
expect_status failed
mod group '{"name":"deploy","state":"absent"}'
expect_status failed
expect_match res 'primary group of user deploy'

# absent: the entries and memberships go, its own group too; the home stays
idempotent user '{"name":"deploy","state":"absent"}'
expect_no_match "$ROOT/etc/passwd" '^deploy:'
expect_no_match "$ROOT/etc/shadow" '^deploy:'
expect_no_match "$ROOT/etc/group" 'deploy'
expect_no_match "$ROOT/etc/gshadow" 'deploy'
[ -d "$ROOT/home/deploy" ] || fail "the home was removed"
idempotent user '{"name":"svc","state":"absent"}'
idempotent group '{"name":"ops","state":"absent"}'
expect_file /etc/passwd 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n'
expect_file /etc/group 'root:x:0:\ndaemon:x:1:\nadm:x:4:\nstaff:x:50:\nusers:x:100:\nnogroup:x:65534:\nwheel:x:999:\ndevs:x:1000:\n'
expect_file /etc/shadow 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n'

# the new user is a user of the target: its tools see it
mod user '{"name":"web"}'
mod command '{"cmd":"sh -c \"id web > /tmp/id\""}'
expect_status changed
grep -q 'uid=1000(web) gid=1001(web)' "$ROOT/tmp/id" || fail "id web: $(cat "$ROOT/tmp/id")"
exit 0
