#!/bin/sh
# kiln doc --json: one JSON document with every module, base, output, function, the
# language's attributes, facts and keywords; kiln doc config/notify/facts in text.
# The keywords agree with the lexer's, the config and host attributes with the checker.
. "$(dirname "$0")/../lib/test-lib.sh"
need jq

run_kiln doc --json
expect_rc 0
jq -e '.version == 1 and (.modules | length) > 10 and (.bases | length) > 3 and
	(.outputs | length) > 3 and (.functions | length) > 10 and (.config | length) > 5 and
	(.facts | length) > 5 and (.keywords | length) > 20 and (.task | length) >= 2 and
	(.connection | length) > 5' out >/dev/null || fail "doc --json misses a section"
cp out all.json
# every argument has a name, type, doc, required and default
jq -e '[.modules[], .bases[], .outputs[], .functions[] | .args[]] | all(
	has("name") and has("type") and has("doc") and has("required") and has("default"))' \
	all.json >/dev/null || fail "an argument lacks a field"
jq -e '.modules[] | select(.name == "file") | .args[] | select(.name == "mode") |
	.type == "mode"' all.json >/dev/null || fail "file's mode is not described"

# the keywords are exactly the lexer's
sed -n 's/^"\([a-z]*\)"  *{ return [A-Z]*; }$/\1/p' "$TOP/grammar/lexer.l" | sort >lexer.kw
jq -r '.keywords[].name' all.json | sort >doc.kw
[ -s lexer.kw ] || fail "no keywords found in lexer.l"
cmp -s lexer.kw doc.kw || { diff lexer.kw doc.kw >&2; fail "kiln doc's keywords differ from the lexer's"; }

# every documented scalar type is one the checker takes
for t in $(jq -r '.types[].name | select(test("^[a-z]+$"))' all.json); do
	printf 'param p: %s\nimage a from scratch() {}\n' "$t" >type.img
	run_kiln lint type.img
	[ "$rc" -eq 0 ] || fail "documented type $t is refused: $(cat err)"
done
[ "$(jq '[.types[].name | select(test("^[a-z]+$"))] | length' all.json)" -ge 7 ] ||
	fail "too few types documented"

# every documented config attribute is one the checker takes, with its type
{
	echo 'image a from scratch() {'
	echo '  config {'
	jq -r '.config[] | "    \(.name) = " + (if .type == "string" then "\"x\""
		elif (.type | startswith("list")) then "[]" else "{}" end)' all.json
	echo '  }'
	echo '}'
} >config.img
run_kiln lint config.img
expect_rc 0
# and every documented host attribute
{
	echo 'hosts web {'
	echo '  "h" {'
	jq -r '.connection[] | select(.type != "secret") | "    \(.name) = " +
		(if .type == "string" or .type == "path" then "\"x\"" elif .type == "int" then "1"
		elif .type == "bool" then "true" elif .enum then .enum[0] else "{}" end)' all.json
	echo '  }'
	echo '}'
} >hosts.img
run_kiln lint hosts.img
expect_rc 0

# one name: only its sections
run_kiln doc --json apt
expect_rc 0
jq -e 'keys == ["kiln_version", "modules", "version"] and .modules[0].name == "apt"' out \
	>/dev/null || fail "doc --json apt: $(cat out)"
run_kiln doc --json function:file
jq -e '(.functions | length) == 1 and (has("modules") | not)' out >/dev/null ||
	fail "doc --json function:file"
for page in config notify facts keywords hosts types; do
	run_kiln doc --json "$page"
	expect_rc 0
	[ "$(jq 'keys | length' out)" -eq 3 ] || fail "doc --json $page: $(jq -c keys out)"
done

# text pages
run_kiln doc config
expect_rc 0
expect_match out '^  entrypoint +list<string> ' "doc config has no entrypoint"
run_kiln doc notify
expect_match out '^  notify +list<handler> ' "doc notify has no notify"
run_kiln doc facts
expect_match out '^  facts.os.family +string ' "doc facts has no facts.os.family"
run_kiln doc
expect_match out '^  facts ' "kiln doc does not list the language's pages"

# unknown names and options
run_kiln doc --json nope-nothing
expect_rc 1
[ ! -s out ] || fail "doc --json of an unknown name printed something"
run_kiln doc facs
expect_rc 1
expect_match err "Did you mean 'facts'" "no suggestion for doc facs"
run_kiln doc --jsn
expect_rc 2
expect_match err "did you mean '--json'" "no suggestion for --jsn"
exit 0
