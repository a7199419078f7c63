#!/bin/sh
# tests/runtime/t6025-apply-symbolic-mode.sh: absolute symbolic modes work end to end: they
# lint, compile to ints, and kiln apply gives the files those modes (file, copy and a
# directory with setuid and sticky bits); a second apply finds them in place. A relative
# mode is refused before anything is built.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need tar

mkdir build
cat >build/m.img <<'EOF'
image m from scratch() {
  stage s {
    file "/a" { state = touch, mode = "u=rw,go=r" }
    file "/d" { state = directory, mode = "a=rx,u=rwxs,o=t" }
    copy "/c" { content = "x\n", mode = "u=rwx,g=rx,o=" }
    file "/o" { state = touch, mode = "0604" }
  }
  output tar "out/m.tar" {}
}
EOF
run_kiln lint build/m.img
expect_rc 0
kapply_json build/m.img
expect_rc 0
expect_recap m 0 4 0 0 false
mode_of()
{
	mkdir -p x && tar -C x -xpf build/out/m.tar && stat -c %a "x/$1"
}
[ "$(mode_of a)" = 644 ] || fail "/a has mode $(mode_of a), not 644"
[ "$(mode_of d)" = 5750 ] || fail "/d has mode $(mode_of d), not 5750"
[ "$(mode_of c)" = 750 ] || fail "/c has mode $(mode_of c), not 750"
[ "$(mode_of o)" = 604 ] || fail "/o has mode $(mode_of o), not 604"

# the same build again: the stage is cached, nothing changes
kapply_json build/m.img
expect_rc 0
expect_recap m 4 0 0 0 false

# a relative mode is refused by lint and by apply, before anything runs
sed -i 's/"u=rw,go=r"/"u+x"/' build/m.img
run_kiln lint --color=never build/m.img
expect_rc 1
expect_match err "m\\.img:3:39: error\\[E3005\\]: argument 'mode' 'u\\+x' is not a file mode"
kapply_json build/m.img
[ "$rc" -ne 0 ] || fail "apply accepted the mode u+x"
[ -z "$(ran_tasks)" ] || fail "tasks ran with a refused mode: $(ran_tasks | tr '\n' ' ')"
