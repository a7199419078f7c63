#!/bin/sh
# kiln apply --list-hosts prints the hosts each apply block would touch and exits 0
# without connecting; --limit PATTERN narrows them with Ansible's host patterns. The
# hosts of `apply all` under each pattern are those (in the same order) that Debian's
# `ansible -i INV all --limit PATTERN --list-hosts` prints; a pattern that selects no
# host is an error before anything runs. (Ansible's subscripts, `web[0]`, are not
# supported: kiln reads `[...]` as a glob.)
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/ansible-inventory.sh"
need ansible

cat >inv.ini <<'INI'
mail.example.com
[webservers]
foo.example.com
bar.example.com
web3
[dbservers]
one.example.com
two.example.com
three.example.com
[db2]
bar.example.com
zed
[prod:children]
webservers
dbservers
INI
# the hosts are unreachable names: --list-hosts must not try them
cat >site.img <<'IMG'
apply all {
  command "uptime" {}
}
apply webservers {
  command "uptime" {}
}
IMG

for pattern in all webservers 'webservers,dbservers' 'db2:webservers' 'webservers:&db2' \
	'prod:!db*' '!webservers' '*.example.com' '~(one|two)\.' 'zed:mail.example.com' ungrouped; do
	LC_ALL=C.UTF-8 ansible -i inv.ini all --limit "$pattern" --list-hosts >want 2>ansible.err ||
		fail "ansible --list-hosts '$pattern' failed: $(cat ansible.err)"
	run_kiln apply -i inv.ini --list-hosts --limit "$pattern" site.img
	expect_rc 0
	# the first block (apply all) is the pattern's selection
	awk '/^apply #2/ { exit } /^  hosts/ || /^    / { print }' out >got
	diff -u want got >&2 || fail "--limit '$pattern' differs from ansible --list-hosts"
done

# without --limit: every block's hosts
run_kiln apply -i inv.ini --list-hosts site.img
expect_rc 0
expect_match out '^apply #1 \(all\): site\.img:1:1$'
expect_match out '^apply #2 \(webservers\): site\.img:4:1$'
[ "$(sed -n '/^apply #2/,$p' out | grep -c '^    ')" = 3 ] || fail "apply webservers: $(cat out)"
expect_no_match err . "--list-hosts printed something else: $(cat err)"

# a limit narrows every block; a block it leaves empty lists no host
run_kiln apply -i inv.ini --list-hosts --limit 'dbservers' site.img
expect_rc 0
[ "$(sed -n '/^apply #2/,$p' out | sed -n 2p)" = "  hosts (0):" ] || fail "apply webservers under dbservers: $(cat out)"

# a pattern that selects nothing, or is malformed: exit 1, nothing run, nothing tried
for pattern in nothing 'webservers:&dbservers' 'web::db' '~('; do
	run_kiln apply -i inv.ini --list-hosts --limit "$pattern" site.img
	expect_rc 1
	expect_match err "host pattern '.*'"
	run_kiln apply --work-dir="$TMP/work" --cache-dir="$TMP/cache" --progress=plain -i inv.ini \
		--limit "$pattern" site.img
	expect_rc 1
	expect_match err "host pattern '.*'"
	expect_no_match err 'unreachable|RECAP' "a host was tried with a bad --limit"
done
expect_match err "host pattern '~\\(': Unmatched" "a bad regular expression's message"

run_kiln apply --limit site.img
expect_rc 2
