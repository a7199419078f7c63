#!/bin/sh
# -i FILE (or -inventory=FILE) gives kiln lint, compile and plan the host groups of an
# Ansible INI inventory, as an `inventory "FILE"` line does, and the plan's hosts
# carry their connection: address (ansible_host), port, user, identity_file.
. "$(dirname "$0")/../lib/test-lib.sh"
need jq

cat >hosts.ini <<'INI'
mail.example.com
[webservers]
foo.example.com ansible_host=10.0.0.1 ansible_user=deploy ansible_ssh_private_key_file=~/.ssh/web
bar.example.com:2222
[webservers:vars]
ansible_user=www
http_port=80
INI
cat >site.img <<'IMG'
apply webservers {
  command "uptime" {}
}
IMG

run_kiln lint --color=never --diagnostics=short site.img
expect_rc 1
expect_match err "unknown host group 'webservers'" "without -i the group is unknown"

run_kiln lint --color=never --diagnostics=short -i hosts.ini site.img
expect_rc 0

run_kiln compile --color=never -i hosts.ini -o plan.json site.img
expect_rc 0
jq -e '.groups.webservers.hosts["foo.example.com"] |
	.address == "10.0.0.1" and .user == "deploy" and .identity_file == "~/.ssh/web" and
	.vars.http_port == 80' plan.json >/dev/null || fail "foo's connection in the plan"
jq -e '.groups.webservers.hosts["bar.example.com"] | .port == 2222 and .user == "www"' \
	plan.json >/dev/null || fail "bar's port and its group's user"
jq -e '.groups.all.children == ["ungrouped", "webservers"] and
	.groups.ungrouped.hosts["mail.example.com"] == {}' plan.json >/dev/null ||
	fail "'all' and 'ungrouped'"

run_kiln plan --color=never -refresh=false -inventory=hosts.ini site.img
expect_rc 0
expect_match out 'hosts webservers: 2 hosts'

# a second inventory merges into the first, as with ansible -i A -i B
printf '[dbservers]\ndb1\n[webservers]\nbaz.example.com\n' >more.ini
run_kiln compile --color=never -i hosts.ini -i more.ini -o plan.json site.img
expect_rc 0
jq -e '(.groups.webservers.hosts | keys) == ["bar.example.com", "baz.example.com", "foo.example.com"]
	and .groups.all.children == ["ungrouped", "webservers", "dbservers"]' plan.json >/dev/null ||
	fail "two inventories are one"

run_kiln lint --color=never --diagnostics=short -i missing.ini site.img
expect_rc 1
expect_match err '^missing\.ini:1:1: error: cannot read: No such file or directory \[E0001\]$'
run_kiln lint -i
expect_rc 2
