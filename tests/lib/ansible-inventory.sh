# tests/lib/ansible-inventory.sh: compare kiln inventory with Debian's ansible-inventory.
# Source after test-lib.sh. Ansible writes ~/.ansible, so HOME and ANSIBLE_HOME are in
# $TMP; only the INI plugin reads inventories, and no ansible.cfg is read.

need ansible-inventory
need jq
export HOME="$TMP/home" ANSIBLE_HOME="$TMP/home/.ansible" ANSIBLE_CONFIG="$TMP/home/none.cfg"
export ANSIBLE_INVENTORY_ENABLED=ini ANSIBLE_INVENTORY_UNPARSED_FAILED=true
export ANSIBLE_NOCOLOR=1 ANSIBLE_DEPRECATION_WARNINGS=false
mkdir -p "$HOME"

# Ansible needs a UTF-8 locale; test-lib.sh sets C for kiln.
ansible_inventory()
{
	LC_ALL=C.UTF-8 ansible-inventory "$@"
}

# same_as_ansible FILE [novars]: kiln inventory -i FILE --list and --graph print what
# ansible-inventory prints: the same JSON (compared by jq -S) and the same text; and
# --graph --vars too, unless novars (Python shows a tuple as (1, 2), kiln as a list).
same_as_ansible()
{
	ansible_inventory -i "$1" --list >ansible.json 2>ansible.err ||
		fail "ansible-inventory failed on $1: $(head -c 600 ansible.err)"
	run_kiln inventory -i "$1" --list
	expect_rc 0
	jq -S . ansible.json >want.json
	jq -S . out >got.json || fail "kiln inventory --list printed no JSON for $1"
	diff -u want.json got.json >&2 || fail "kiln inventory --list differs from ansible-inventory on $1"
	# and it is the same text: sorted keys, 4-space indents, floats in their shortest form
	diff -u ansible.json out >&2 || fail "kiln inventory --list is not the text ansible-inventory prints for $1"
	ansible_inventory -i "$1" --graph >want.graph 2>ansible.err ||
		fail "ansible-inventory --graph failed on $1"
	run_kiln inventory -i "$1" --graph
	expect_rc 0
	diff -u want.graph out >&2 || fail "kiln inventory --graph differs from ansible-inventory on $1"
	[ "${2:-}" = novars ] && return 0
	ansible_inventory -i "$1" --graph --vars >want.graph 2>ansible.err ||
		fail "ansible-inventory --graph --vars failed on $1"
	run_kiln inventory -i "$1" --graph --vars
	expect_rc 0
	diff -u want.graph out >&2 ||
		fail "kiln inventory --graph --vars differs from ansible-inventory on $1"
}
