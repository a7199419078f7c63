#!/bin/sh
# Host values and [group:vars] values are typed as Ansible types them (Python literals:
# ints, floats, True/False/None, strings, lists, tuples, dicts; what is not a literal
# stays text), and kiln inventory --list prints them as ansible-inventory does, floats
# in their shortest form (0.1, 1000.0, 1e-07).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/ansible-inventory.sh"

cat >values.ini <<'INI'
lone a=1 b=True c=[1,2] d="x y" e=1.5 f=None g='q' h={'k':1} i=0x10 j=yes k=1_000 l=(1,2) m=-3 n=a#b
more o=true p=022 q=0 r=1e3 s=-0.5 t="'single'" u='"double"' v=0o17 w=0b101 x=1a y= z=1,2
floats a=[1e3,0.001,0.0001,0.00001,1e15,1e16,1.5e300,-2.5e-10,0.0,-0.0,5e-324,0.1,2.675,100.5]
text a="q\"\\x\ty" b='caf\u00e9' c="\u00e9\x41\101"

[g]
h1

[g:vars]
v1=1
v2 = True
v3 = a b  # not a comment here
v4 = 1 # but after a literal it is Python's
v5 = "quoted"
v6 = [1, 'a', None, {"k": (1, 2)}]
v7 = {'a': 1, "b": [True, False]}
v8 = 'a' "b"
v9 = "tab\there \u00e9"
v10 = r'\n raw'
v11 = 3.25e2
v12 = yes
v13 =
v14 = 1, 2,
v15 = ()
v16 = +7
INI
same_as_ansible values.ini novars

# --graph --vars shows values as Python's str() does: True, None, 'quoted' in lists
cat >shown.ini <<'INI'
h1 a=True b=None c="it's" d='say "hi"' e="[1, 'x', None, {'k': [True, 2.5]}]" f="tab\tnl\n" g=0.1
[g]
h1
[g:vars]
v = {"a": "it's \"both\"", 'b': {}}
w = plain text
ansible_group_priority = 3
INI
same_as_ansible shown.ini
run_kiln inventory -i values.ini --list
jq -e '._meta.hostvars.lone | .a == 1 and .b == true and .f == null and .j == "yes" and .n == "a"' \
	out >/dev/null || fail "host values are typed"
jq -e '._meta.hostvars.more.p == "022" and ._meta.hostvars.more.o == "true"' out >/dev/null ||
	fail "022 and true are not Python literals: they stay text"

# a long list and deep nesting are literals too
printf 'long a=[%s] b=%s%s\n' "$(seq -s, 0 149)" "$(printf '[%.0s' $(seq 50))" \
	"$(printf ']%.0s' $(seq 50))" >long.ini
same_as_ansible long.ini
run_kiln inventory -i long.ini --list
jq -e '._meta.hostvars.long.a | length == 150' out >/dev/null || fail "a list of 150 ints"
