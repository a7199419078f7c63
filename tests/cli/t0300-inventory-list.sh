#!/bin/sh
# kiln inventory -i FILE --list and --graph print what Ansible's ansible-inventory prints
# for the constructs of Ansible's inventory guide: ungrouped hosts, groups, children of
# children, vars at every level merged by precedence, host ranges, host:port, quoting,
# comments of both styles, and slide 27 of the talk.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/ansible-inventory.sh"

# slide 27, as it is
cat >slide27.ini <<'INI'
# /my_project/hosts
mail.example.com

[webservers]
foo.example.com
bar.example.com

[dbservers]
one.example.com
two.example.com
INI
same_as_ansible slide27.ini
run_kiln inventory -i slide27.ini --list
jq -e '.all.children == ["ungrouped", "webservers", "dbservers"]' out >/dev/null ||
	fail "'all' holds every group"
jq -e '.ungrouped.hosts == ["mail.example.com"]' out >/dev/null || fail "ungrouped"

# ranges, ports, comments
cat >ranges.ini <<'INI'
; a comment in the style of INI files
# and one in the style of shells
early.example.com
late.example.com   # listed again below, so it leaves 'ungrouped'

[webservers]
www[01:50:7].example.com http_port=8080
late.example.com
10.0.0.[1:3]
[2001:db8::1]:2222
192.168.1.10:2200
db-[a:f:2]
node[A:C]
web[1:3]-[x:y]
app[8:11]
INI
same_as_ansible ranges.ini
run_kiln inventory -i ranges.ini --list
jq -e '.webservers.hosts | index("www08.example.com") and index("db-e") and index("app11")' \
	out >/dev/null || fail "ranges expand with leading zeros, steps and letters"
jq -e '._meta.hostvars["192.168.1.10"].ansible_port == 2200' out >/dev/null ||
	fail "host:port sets ansible_port"

# vars at every level, precedence, quoting
cat >vars.ini <<'INI'
[dbservers]
db1.example.com ansible_host=10.0.0.5 ansible_port=5432 ansible_ssh_private_key_file=~/.ssh/db
db2.example.com:2345 ansible_user="admin user" note='a "quoted" value' esc="a\"b" sp=a\ b
both

[dbservers:vars]
role=db
shared=from-db
ansible_user=postgres

[webservers]
web1
both

[webservers:vars]
role=web
shared=from-web

[prod:children]
webservers
dbservers

[prod:vars]
shared=from-prod
env=prod

[europe:children]
prod

[europe:vars]
env=europe
region=eu

[all:vars]
env=all
ntp=ntp.example.com
INI
same_as_ansible vars.ini
# --graph GROUP and --host HOST, as ansible-inventory prints them
ansible_inventory -i vars.ini --graph prod >want.graph 2>/dev/null
run_kiln inventory -i vars.ini --graph prod
expect_rc 0
diff -u want.graph out >&2 || fail "kiln inventory --graph prod differs"
for h in both db1.example.com db2.example.com; do
	ansible_inventory -i vars.ini --host "$h" 2>/dev/null | jq -S . >want.json
	run_kiln inventory -i vars.ini --host "$h"
	expect_rc 0
	jq -S . out >got.json
	diff -u want.json got.json >&2 || fail "kiln inventory --host $h differs"
done
run_kiln inventory -i vars.ini --host nosuch
expect_rc 1
expect_match err "no host 'nosuch'"
run_kiln inventory -i vars.ini --graph nosuch
expect_rc 1
expect_match err "no group 'nosuch'"
run_kiln inventory -i vars.ini --host both
jq -e '.role == "web" and .env == "prod" and .region == "eu"' out >/dev/null ||
	fail "a deeper group wins; at one depth the later name wins"

# sections in any order, children declared later, priorities, [all] and [ungrouped]
cat >order.ini <<'INI'
[b:vars]
x=from-b
ansible_group_priority=2.5
[a:vars]
x=from-a
[z:vars]
x=from-z
ansible_group_priority=0
[parent:children]
a
b
z
grand
[grand:children]
kid
[kid]
both
[a]
both
only-a
[b]
both
[z]
both
[all]
in-all
[ungrouped]
in-ungrouped
[grand:vars]
x=from-grand
[kid:vars]
y=1
[empty]
INI
same_as_ansible order.ini
run_kiln inventory -i order.ini --host both
jq -e '.x == "from-b" and .y == 1' out >/dev/null ||
	fail "at one depth a higher ansible_group_priority wins (2.5 counts as 2)"

# the examples of Ansible's inventory guide
cat >guide.ini <<'INI'
[targets]
localhost              ansible_connection=local
other1.example.com     ansible_connection=ssh        ansible_user=myuser
other2.example.com     ansible_connection=ssh        ansible_user=myotheruser

[webservers]
jumper ansible_port=5555 ansible_host=192.0.2.50
www[01:50].example.com
host1 http_port=80 maxRequestsPerChild=808
host2 http_port=303 maxRequestsPerChild=909

[databases]
db-[a:f].example.com

[atlanta]
host1
host2

[atlanta:vars]
ntp_server=ntp.atlanta.example.com
proxy=proxy.atlanta.example.com

[raleigh]
host2
host3

[southeast:children]
atlanta
raleigh

[southeast:vars]
some_server=foo.southeast.example.com
halon_system_timeout=30
self_destruct_countdown=60
escape_pods=2

[usa:children]
southeast
northeast
southwest
northwest

[northeast]
[southwest]
[northwest]

[web-1]
fe80::1
2001:db8::[a:c]
INI
same_as_ansible guide.ini

# 'ungrouped' made a child of another group lets go of its hosts, which are then in no
# group, and Ansible leaves them out of _meta
cat >odd.ini <<'INI'
lone a=1
[g1:children]
ungrouped
[g1]
[all]
top b=2
INI
same_as_ansible odd.ini

# two inventories are one, as with ansible-inventory -i A -i B
ansible_inventory -i slide27.ini -i vars.ini --list 2>/dev/null | jq -S . >want.json
run_kiln inventory -i slide27.ini -i vars.ini --list
jq -S . out >got.json
diff -u want.json got.json >&2 || fail "two inventories merge as Ansible merges them"

# kiln inventory needs -i and one of --list, --graph, --host
run_kiln inventory --list
expect_rc 2
run_kiln inventory -i slide27.ini
expect_rc 2
run_kiln inventory -i missing.ini --list
expect_rc 1
expect_match err '^missing\.ini: error: cannot read'
