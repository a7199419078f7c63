#!/bin/sh
# kiln lint A B checks the files as one build, as kiln compile A B does: an image of A
# built from an image of B, a role of B used in A, a param of B read in A.
. "$(dirname "$0")/../lib/test-lib.sh"

mkdir sub
cat >a.img <<'IMG'
image child from parent {
  stage s { use greet(who) }
}
IMG
cat >sub/b.img <<'IMG'
param who: string = "world"
image parent from scratch() {}
role greet(name: string) { command "echo ${name}" {} }
IMG

run_kiln compile --color=never -o - a.img sub/b.img
expect_rc 0
run_kiln lint --color=never a.img sub/b.img
expect_rc 0
expect_empty err

# One namespace: a name declared in both files is a duplicate, for lint as for compile.
echo 'image parent from scratch() {}' >c.img
run_kiln compile --color=never -o - a.img sub/b.img c.img
expect_rc 1
expect_match err 'error\[E2003\]' "compile: no duplicate"
run_kiln lint --color=never a.img sub/b.img c.img
expect_rc 1
expect_match err '^c\.img:1:7: error\[E2003\]' "lint: no duplicate"

# The same file twice is one file.
run_kiln lint --color=never a.img sub/b.img ./sub/b.img
expect_rc 0
expect_empty err

# A host group of one file and the apply block of another.
printf 'hosts roots { "r/one" { connection = rootfs } }\n' >hosts.img
printf 'apply roots {\n  command "uptime" {}\n}\n' >apply.img
run_kiln lint --color=never apply.img hosts.img
expect_rc 0
expect_empty err
