#!/bin/sh
# kiln run PATTERN --list-hosts selects the hosts Debian's `ansible PATTERN --list-hosts`
# selects, for Ansible's host patterns (groups, children, hosts, globs, ~regex, ':' ','
# '&' '!'); nothing is reached. kiln run's usage and argument errors, which stop it
# before any host is reached, are checked here too (the runs themselves: t1251).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/ansible-inventory.sh"
need ansible

cat >hosts.ini <<'INI'
mail.example.com
[web]
web1 ansible_host=10.0.0.1
web2
web3
[db]
db1
db-a
[staging]
web1
db1
[prod:children]
web
INI

# one ansible-playbook run lists the hosts of a play per pattern (ansible itself would
# take seconds per pattern)
set -- all '*' web prod 'web:&staging' 'all:!web' '!web' '~db.*' 'web*' 'prod,db1' \
	'staging:!db*' 'web2:db-a' 'prod:&staging:!db1' mail.example.com '*.example.com'
: >plays.yml
for p in "$@"; do
	printf -- '- hosts: "%s"\n  gather_facts: false\n  tasks: []\n' "$p" >>plays.yml
done
LC_ALL=C.UTF-8 ansible-playbook -i hosts.ini plays.yml --list-hosts >ansible.out 2>ansible.err ||
	fail "ansible-playbook --list-hosts failed: $(head -c 300 ansible.err)"
# play N's hosts, sorted, in want.N
awk '/^  play #/ { n++; inhosts = 0; next }
	/^    hosts \(/ { inhosts = 1; next }
	inhosts && NF { print $1 > ("want." n) }' ansible.out
n=0
for p in "$@"; do
	n=$((n + 1))
	run_kiln run "$p" -i hosts.ini -a true --list-hosts
	expect_rc 0
	tail -n +2 out | sed 's/^ *//' | sort >got
	sort "want.$n" 2>/dev/null >want || : >want
	[ -s want ] || fail "ansible-playbook listed no host for '$p'"
	diff -u want got >&2 || fail "pattern '$p': kiln run --list-hosts differs from ansible"
	expect_match out "^  hosts \\($(wc -l <want)\\):\$"
done
run_kiln run web -i hosts.ini -m ping-me -a x --list-hosts
expect_rc 1 # no module ping-me: the task is checked before the hosts are listed

# a pattern that selects nothing is an error (Ansible only warns)
run_kiln run nowhere -i hosts.ini -a true
expect_rc 1
expect_match err "^kiln run: error: host pattern 'nowhere' matches no host of the plan"
run_kiln run '~(' -i hosts.ini -a true
expect_rc 1
expect_match err "^kiln run: error: host pattern '~\\(': "

# usage errors
run_kiln run -i hosts.ini -a true
expect_rc 2
expect_match err 'name one host pattern'
run_kiln run all -a true
expect_rc 2
expect_match err 'name the inventory: -i FILE'
run_kiln run all -i hosts.ini
expect_rc 2
expect_match err 'give the command with -a'
run_kiln run all -i hosts.ini -m
expect_rc 2
expect_match err "option '-m' needs a value"

# the arguments are checked before any host is reached: the diagnostics of a file
run_kiln run all -i hosts.ini -m file -a 'path=/etc/x state=directry mode=0644 recurse=sometimes'
expect_rc 1
expect_match err "^<kiln run>:[0-9]+:[0-9]+: error\[E3004\]: argument 'state' must be one of"
expect_match err "did you mean 'directory'\?"
expect_match err "error\[E3001\]: argument 'recurse' expects bool, found string"
run_kiln run all -i hosts.ini -m copy -a 'dest=/etc/x contnet=hello'
expect_rc 1
expect_match err "error\[E3002\]: module 'copy' has no argument 'contnet'"
expect_match err "did you mean 'content'\?"
run_kiln run all -i hosts.ini -m apt -a 'vim'
expect_rc 1
expect_match err "'vim' is not a key=value argument, and module 'apt' takes no free-form text"
run_kiln run all -i hosts.ini -m shell -a 'echo "unclosed'
expect_rc 1
expect_match err 'the " quote .* is not closed'

# kiln help lists it
run_kiln help
expect_match out '^  run +run one module'
run_kiln help run
expect_match out '^usage: kiln run PATTERN -i INVENTORY'
