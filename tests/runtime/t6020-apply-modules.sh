#!/bin/sh
# tests/runtime/t6020-apply-modules.sh: every module that works on a busybox image, in one
# build through kiln apply: file (directory, content, link, absent, touch, modes), copy (a
# file, a directory with and without a trailing slash, inline content), template ({{ }},
# {% for %}, {% if %} on a fact), lineinfile, command and shell (creates, removes, chdir,
# env), group and user, unarchive (a tar made here), local (on the build machine, in the
# .img file's directory). Each task's status in the JSON events is the expected one (a
# task repeated in the same stage is ok the second time), and the unpacked image holds
# what the tasks made.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need umoci

mkdir -p build/files/site/sub build/templates arch/pkg/bin
echo one >build/files/one.txt
echo '<h1>site</h1>' >build/files/site/index.html
echo deep >build/files/site/sub/deep.txt
echo 'packed file' >arch/pkg/README
printf '#!/bin/sh\necho tool\n' >arch/pkg/bin/tool
chmod 0755 arch/pkg/bin/tool
tar -C arch -cf build/pkg.tar pkg
cat >build/templates/motd.tmpl <<'EOF'
Welcome to {{ name }} on port {{ port + 1 }}
{% for u in users %}
user {{ u }}
{% endfor %}
{% if facts.os.family == "busybox" %}
family is busybox
{% else %}
family is {{ facts.os.family }}
{% endif %}
EOF

cat >build/mods.img <<'EOF'
let name = "kiln-test"
let port = 8079
let users = ["alice", "bob"]

image mods from busybox() {
  stage files {
    file "/srv/dir" { state = directory, mode = 0750 }
    file "/srv/dir" { state = directory, mode = 0750 }
    file "/srv/dir/a.txt" { content = "alpha\n", mode = 0600 }
    file "/srv/dir/a.txt" { content = "alpha\n", mode = 0600 }
    file "/srv/dir/a.txt" { mode = 0640 }
    file "/srv/link" { state = link, src = "dir/a.txt" }
    file "/srv/link" { state = link, src = "dir/a.txt" }
    file "/etc/gone" { content = "soon gone\n" }
    file "/etc/gone" { state = absent }
    file "/etc/gone" { state = absent }
    file "/srv/touched" { state = touch, mode = 0444 }
  }
  stage copies {
    copy "one file" { src = "files/one.txt", dest = "/srv/one.txt", mode = 0640 }
    copy "one file again" { src = "files/one.txt", dest = "/srv/one.txt", mode = 0640 }
    copy "the directory itself" { src = "files/site", dest = "/srv/withdir" }
    copy "the directory's contents" { src = "files/site/", dest = "/srv/contents" }
    copy "the contents again" { src = "files/site/", dest = "/srv/contents" }
    copy "inline" { content = "inline text\n", dest = "/srv/inline.txt" }
    copy "into a directory" { src = "files/one.txt", dest = "/srv/contents/" }
    template "motd" { src = "templates/motd.tmpl", dest = "/etc/motd", mode = 0644 }
    template "motd again" { src = "templates/motd.tmpl", dest = "/etc/motd", mode = 0644 }
    lineinfile "add a line" { path = "/etc/app.conf", line = "key=value", create = true }
    lineinfile "add it again" { path = "/etc/app.conf", line = "key=value" }
    lineinfile "another" { path = "/etc/app.conf", line = "other=1" }
    lineinfile "replace" { path = "/etc/app.conf", regexp = "^key=", line = "key=changed" }
    lineinfile "remove" { path = "/etc/app.conf", regexp = "^other=", state = absent }
  }
  stage commands {
    command "touch /srv/cmd-ran" { creates = "/srv/cmd-ran" }
    command "touch /srv/never-created" { creates = "/srv/cmd-ran" }
    command "touch /srv/removes-ran" { removes = "/srv/one.txt" }
    command "touch /srv/never-removed" { removes = "/srv/does-not-exist" }
    command "cp one.txt copied-by-command.txt" { chdir = "/srv" }
    shell "pwd > /srv/pwd.txt" { chdir = "/srv/dir" }
    shell "echo \"$FOO-$BAR\" > /srv/env.txt" { env = { FOO = "foo", BAR = "bar" } }
    shell "cat > /srv/stdin.txt" { stdin = "fed on stdin\n" }
  }
  stage accounts {
    group "devs" { gid = 2000 }
    group "devs" { gid = 2000 }
    user "alice" { uid = 2001, group = "devs", home = "/home/alice", shell = "/bin/sh", comment = "Alice" }
    user "alice" { uid = 2001, group = "devs", home = "/home/alice", shell = "/bin/sh", comment = "Alice" }
    group "ops" { gid = 2002 }
    user "bob" { uid = 2003, groups = ["ops"], create_home = false }
  }
  stage archives {
    file "/opt/app" { state = directory }
    unarchive "unpack" { src = "pkg.tar", dest = "/opt/app" }
    unarchive "unpack again" { src = "pkg.tar", dest = "/opt/app" }
    local "pwd > local-pwd.txt" {}
    local "echo never > local-never.txt" { creates = "local-pwd.txt" }
  }
  output oci "out/mods" { tag = "mods:1" }
}
EOF

# from another directory: local runs in the .img file's directory
mkdir elsewhere
run_kiln_in elsewhere apply --work-dir="$WORK" --cache-dir="$CACHE" --events=json ../build/mods.img
expect_rc 0
expect_recap mods 14 30 0 0 false

s=mods.files
for t in "$s.0 changed" "$s.1 ok" "$s.2 changed" "$s.3 ok" "$s.4 changed" "$s.5 changed" "$s.6 ok" \
	"$s.7 changed" "$s.8 changed" "$s.9 ok" "$s.10 changed"; do
	expect_status $t
done
s=mods.copies
for t in "$s.0 changed" "$s.1 ok" "$s.2 changed" "$s.3 changed" "$s.4 ok" "$s.5 changed" \
	"$s.6 changed" "$s.7 changed" "$s.8 ok" "$s.9 changed" "$s.10 ok" "$s.11 changed" \
	"$s.12 changed" "$s.13 changed"; do
	expect_status $t
done
s=mods.commands
for t in "$s.0 changed" "$s.1 ok" "$s.2 changed" "$s.3 ok" "$s.4 changed" "$s.5 changed" \
	"$s.6 changed" "$s.7 changed"; do
	expect_status $t
done
s=mods.accounts
for t in "$s.0 changed" "$s.1 ok" "$s.2 changed" "$s.3 ok" "$s.4 changed" "$s.5 changed"; do
	expect_status $t
done
s=mods.archives
for t in "$s.0 changed" "$s.1 changed" "$s.2 ok" "$s.3 changed" "$s.4 ok"; do
	expect_status $t
done

# local ran on the build machine, in build/, once
[ "$(cat build/local-pwd.txt)" = "$(cd build && pwd -P)" ] ||
	[ "$(cat build/local-pwd.txt)" = "$TMP/build" ] ||
	fail "local ran in $(cat build/local-pwd.txt 2>/dev/null), not in build/"
[ ! -e build/local-never.txt ] || fail "local ran despite creates"
[ ! -e elsewhere/local-pwd.txt ] || fail "local ran in the current directory"

unpack build/out/mods mods:1 bundle
R=bundle/rootfs
[ ! -e $R/local-pwd.txt ] && [ ! -e $R/srv/local-pwd.txt ] || fail "local ran in the image"

# file
[ "$(stat -c '%F %a' $R/srv/dir)" = "directory 750" ] || fail "/srv/dir: $(stat -c '%F %a' $R/srv/dir)"
[ "$(cat $R/srv/dir/a.txt)" = alpha ] && [ "$(stat -c %a $R/srv/dir/a.txt)" = 640 ] ||
	fail "/srv/dir/a.txt: $(stat -c %a $R/srv/dir/a.txt)"
[ "$(readlink $R/srv/link)" = dir/a.txt ] || fail "/srv/link -> $(readlink $R/srv/link)"
[ ! -e $R/etc/gone ] || fail "/etc/gone is still there"
[ -f $R/srv/touched ] && [ ! -s $R/srv/touched ] && [ "$(stat -c %a $R/srv/touched)" = 444 ] ||
	fail "/srv/touched is not an empty file of mode 444"

# copy
[ "$(cat $R/srv/one.txt)" = one ] && [ "$(stat -c %a $R/srv/one.txt)" = 640 ] || fail "/srv/one.txt"
(cd $R/srv/withdir && find . | sort | tr '\n' ' ') >withdir.list
[ "$(cat withdir.list)" = ". ./site ./site/index.html ./site/sub ./site/sub/deep.txt " ] ||
	fail "copy of files/site (no slash) gave: $(cat withdir.list)"
(cd $R/srv/contents && find . | sort | tr '\n' ' ') >contents.list
[ "$(cat contents.list)" = ". ./index.html ./one.txt ./sub ./sub/deep.txt " ] ||
	fail "copy of files/site/ (with a slash) gave: $(cat contents.list)"
[ "$(cat $R/srv/contents/sub/deep.txt)" = deep ] || fail "deep.txt was not copied"
[ "$(cat $R/srv/inline.txt)" = "inline text" ] || fail "inline content: $(cat $R/srv/inline.txt)"

# template
printf 'Welcome to kiln-test on port 8080\nuser alice\nuser bob\nfamily is busybox\n' >motd.want
cmp -s motd.want $R/etc/motd || fail "the template rendered: $(cat $R/etc/motd)"

# lineinfile
[ "$(cat $R/etc/app.conf)" = key=changed ] || fail "/etc/app.conf: $(cat $R/etc/app.conf)"

# command and shell
[ -e $R/srv/cmd-ran ] && [ ! -e $R/srv/never-created ] || fail "command with creates"
[ -e $R/srv/removes-ran ] && [ ! -e $R/srv/never-removed ] || fail "command with removes"
[ "$(cat $R/srv/copied-by-command.txt)" = one ] || fail "command with chdir"
[ "$(cat $R/srv/pwd.txt)" = /srv/dir ] || fail "shell with chdir ran in $(cat $R/srv/pwd.txt)"
[ "$(cat $R/srv/env.txt)" = foo-bar ] || fail "shell with env wrote: $(cat $R/srv/env.txt)"
[ "$(cat $R/srv/stdin.txt)" = "fed on stdin" ] || fail "shell with stdin wrote: $(cat $R/srv/stdin.txt)"

# group and user
expect_match $R/etc/group '^devs:x:2000:$'
expect_match $R/etc/group '^ops:x:2002:bob$'
expect_match $R/etc/passwd '^alice:x:2001:2000:Alice:/home/alice:/bin/sh$'
expect_match $R/etc/passwd '^bob:x:2003:'
expect_match $R/etc/shadow '^alice:'
[ "$(grep -c '^alice:' $R/etc/passwd)" -eq 1 ] || fail "alice is in /etc/passwd twice"
[ "$(stat -c '%u:%g' $R/home/alice)" = 2001:2000 ] ||
	fail "/home/alice is owned by $(stat -c '%u:%g' $R/home/alice)"
[ ! -e $R/home/bob ] || fail "bob got a home directory despite create_home = false"

# unarchive
[ "$(cat $R/opt/app/pkg/README)" = "packed file" ] || fail "the archive was not unpacked"
[ -x $R/opt/app/pkg/bin/tool ] || fail "the unpacked tool lost its mode"
say "ok: every module's tasks had the expected status and made what they say in the image"
