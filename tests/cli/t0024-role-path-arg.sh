#!/bin/sh
# A path given to a role's argument is relative to the file of the 'use' (the caller's),
# not to the role's file, even when a file of the same name sits next to the role.
# A path the role writes itself stays relative to the role's file.
. "$(dirname "$0")/../lib/test-lib.sh"

mkdir roles
echo caller >app.conf
echo role >roles/app.conf
echo role >roles/default.conf
cat >roles/r.img <<'IMG'
role r(src: path, more: list<path> = [], dflt: path = "default.conf") {
  copy "/etc/app.conf" { src = src }
  copy "/etc/default.conf" { src = dflt }
  copy "/etc/more/" {
    for m in more
    src = m
  }
}
IMG
cat >main.img <<'IMG'
import "roles/r.img"
image a from scratch() {
  stage s { use r("app.conf", ["app.conf", "roles/"]) }
}
IMG

run_kiln compile --color=never -o plan.json main.img
expect_rc 0
srcs=$(jq -r '[.images[0].stages[0].tasks[].args.src] | join(" ")' plan.json)
[ "$srcs" = "app.conf roles/default.conf app.conf roles/" ] ||
	fail "role path arguments: got '$srcs', expected 'app.conf roles/default.conf app.conf roles/'"

# the same from another directory, and through the plan's root
mkdir up && mv app.conf main.img roles up/
run_kiln compile --color=never -o plan.json up/main.img
expect_rc 0
srcs=$(jq -r '[.images[0].stages[0].tasks[].args.src] | join(" ")' plan.json)
[ "$srcs" = "app.conf roles/default.conf app.conf roles/" ] ||
	fail "from another directory: got '$srcs'"

# through a role that passes its argument on to another role
cat >up/roles/outer.img <<'IMG'
import "r.img"
role outer(f: path) { use r(f) }
IMG
cat >up/two.img <<'IMG'
import "roles/outer.img"
image b from scratch() { stage s { use outer("app.conf") } }
IMG
run_kiln compile --color=never -o plan.json up/two.img
expect_rc 0
src=$(jq -r '.images[0].stages[0].tasks[0].args.src' plan.json)
[ "$src" = "app.conf" ] || fail "through two roles: got '$src', expected 'app.conf'"

# the caller's file missing: an error, not the role's file of the same name
rm up/app.conf
run_kiln compile --diagnostics=short --color=never -o plan.json up/main.img
expect_rc 1
expect_match err '^up/roles/r\.img:2:32: error: no such file: up/app\.conf \[E2013\]$' \
	"missing caller's file not reported"
run_kiln lint --diagnostics=short --color=never up/main.img
expect_rc 1
expect_match err 'no such file: up/app\.conf \[E2013\]$' "lint: missing caller's file not reported"
# the text output shows where the path was given
run_kiln lint --color=never up/main.img
expect_rc 1
expect_match err "^up/main\.img:3:19: note: the role's argument, relative to this file$" \
	"no note at the use that gave the path"
