#!/bin/sh
# An inventory kiln cannot read is an error that names FILE:LINE:COL and what to write
# instead, for each mistake Ansible's INI plugin also rejects; never a crash.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/ansible-inventory.sh"

# bad TEXT LINE:COL ERE: kiln and Ansible both reject TEXT, kiln at LINE:COL saying ERE.
bad()
{
	printf '%b' "$1" >bad.ini
	if ansible_inventory -i bad.ini --list >/dev/null 2>ansible.err; then
		fail "ansible-inventory accepts $(tr '\n' '|' <bad.ini)"
	fi
	run_kiln inventory -i bad.ini --list
	expect_rc 1
	expect_match err "^bad\\.ini:$2: error: not an Ansible INI inventory: $3" \
		"$(tr '\n' '|' <bad.ini): expected bad.ini:$2: $3"
	expect_empty out
}

bad '[web:hosts2]\nh\n' 1:6 "unknown section kind ':hosts2'.*\\[NAME:children\\]"
bad '[web servers]\nh\n' 1:1 "'\\[web servers\\]' is not a section.*without spaces"
bad '[prod:children]\nweb\n' 2:1 "\\[prod:children\\] names group 'web', which no section defines: add a \\[web\\] section"
bad '[web:vars]\nx=1\n' 1:1 "\\[web:vars\\] is for a group no section defines: add a \\[web\\] section"
bad 'h\n[web:vars]\nnoeq\n[web]\n' 3:1 "a \\[web:vars\\] line is NAME=VALUE, not 'noeq'"
bad 'www[01:5].example.com\n' 1:4 "host range \\[01:5\\]: with leading zeros.*same"
bad 'www[1:2:0].example.com\n' 1:4 "the step of host range \\[1:2:0\\] must be a number not 0"
bad 'www[1:2.example.com\n' 1:4 "host range in 'www\\[1:2.example.com' needs a closing '\\]'"
bad 'www[c:a]\n' 1:4 "host range \\[c:a\\] must have begin <= end"
bad 'www[1:a]\n' 1:4 "host range \\[1:a\\] must be numbers \\(\\[01:50\\]\\) or single letters"
bad 'www[1:2:3:4]\n' 1:4 "host range \\[1:2:3:4\\] must be \\[BEGIN:END\\] or \\[BEGIN:END:STEP\\]"
bad 'h1 port 22\n' 1:4 "'port' is not a host value: write NAME=VALUE"
bad 'h1 ansible_user=root ; a comment\n' 1:22 "';' is not a host value.*start with '#'"
bad 'h1 note="unterminated\n' 1:4 'a double quote is not closed'
bad 'h1:\n' 1:1 "host 'h1:' ends in ':', which is kept for a port"
bad '[web:children]\na b\n[a]\n' 2:1 "a \\[web:children\\] line is one group name"
bad '[a:children]\nb\n[b:children]\na\n' 4:1 "group 'a' cannot be a child of 'b'.*loop"
bad '[g]\n[g:vars]\nansible_group_priority=high\n' 3:1 "ansible_group_priority must be a whole number"
bad '[g]\n---\n' 2:1 "'---' starts a YAML file"
bad '[web\nh\n' 1:1 "'\\[web' is not a section: a section header ends in '\\]'"

# a host name that is not UTF-8 (Ansible carries it as an escaped surrogate, which no
# JSON tool reads back): kiln asks for UTF-8
printf 'h\n[g]\nx\377\n' >latin1-host.ini
run_kiln inventory -i latin1-host.ini --list
expect_rc 1
expect_match err '^latin1-host\.ini:3:2: error: not an Ansible INI inventory: not UTF-8: save the inventory as UTF-8$'

# a NUL byte: binary, not text (kiln used to loop forever on it)
printf 'h a=1\000b\n' >nul.ini
run_kiln inventory -i nul.ini --list
expect_rc 1
expect_match err '^nul\.ini:1:6: error: not an Ansible INI inventory: a NUL byte'
# invalid UTF-8 in a comment is no matter, as for Ansible
printf '# caf\351\nok\n' >latin1.ini
same_as_ansible latin1.ini

# through an inventory line, the diagnostic points into the inventory
printf 'inventory "hosts.ini"\n' >site.img
printf 'ok\n[web]\nwww[3:1:x]\n' >hosts.ini
run_kiln lint --color=never --diagnostics=short site.img
expect_rc 1
expect_match err '^hosts\.ini:3:4: error: not an Ansible INI inventory: the step of host range \[3:1:x\]'
