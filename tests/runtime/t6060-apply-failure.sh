#!/bin/sh
# tests/runtime/t6060-apply-failure.sh: a failing command is reported with status failed,
# the task's source FILE:LINE:COL, the command, its exit status and the tail of its stderr
# (plain: error[E5001] and those lines; JSON: the task_end fields); kiln exits 1; the failed
# image's outputs are not written (nothing under the final names, no temporary file, and
# an earlier artifact stays as it was); an image built from it is not built; an
# independent image is built. ignore_errors = true lets an image go on past a failure.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

mkdir -p build/out
cat >build/fail.img <<'EOF'
image broken from busybox() {
  stage s {
    file "/ok" { content = "ok\n" }
    shell "fails" {
      cmd = "i=0; while [ $i -lt 300 ]; do echo noise-$i >&2; i=$((i+1)); done; echo the-last-words >&2; exit 3"
    }
    file "/never" { content = "x\n" }
  }
  stage later { file "/later" { content = "x\n" } }
  output oci "out/broken" { tag = "b:1" }
  output tar "out/broken.tar" {}
  output checksum "out/broken.sha256" {}
}

image child from broken {
  stage c { file "/child" { content = "c\n" } }
  output tar "out/child.tar" {}
}

image other from busybox() {
  stage o {
    command "false" { ignore_errors = true }
    file "/other" { content = "o\n" }
  }
  output tar "out/other.tar" {}
}
EOF
echo 'an earlier build' >build/out/broken.tar

# plain, from build/ (t6061 runs from elsewhere)
run_kiln_in build apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain fail.img
expect_rc 1
expect_match err \
	'^fail\.img:4:5: error\[E5001\]: task shell "fails" failed: exited with status 3: the-last-words$'
expect_match err "^    command: /bin/sh -c 'i=0; while "
expect_match err '^    exit status: 3$'
expect_match err '^    \| the-last-words$'
expect_match err '^    \| noise-299$'
expect_no_match err '^    \| noise-0$' "the whole stderr was printed, not its tail"
expect_match err '^broken +: ok=0 +changed=1 +failed=1 +skipped=0 .*\(stopped\)'
expect_match err '^child: error: its parent image was not built'
expect_match err '^child +: ok=0 +changed=0 +failed=0 +skipped=0 .*\(stopped\)'
expect_match err '^other +: ok=0 +changed=1 +failed=0 +skipped=0 +unreachable=0 +rescued=0 +ignored=1 '
expect_no_match err 'file /never|broken/later|child/c' "something ran after the failure"
[ "$(ls -A build/out | sort | tr '\n' ' ')" = "broken.tar other.tar " ] ||
	fail "the output directory holds: $(ls -A build/out | tr '\n' ' ')"
[ "$(cat build/out/broken.tar)" = 'an earlier build' ] || fail "the earlier artifact was replaced"
[ -z "$(temp_files build)" ] || fail "temporary files left: $(temp_files build)"
tar -tf build/out/other.tar | grep -Eq '^(\./)?other$' || fail "the independent image is not in other.tar"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory still holds $(ls -A "$WORK")"

# JSON: the same facts as fields
rm -f build/out/other.tar
CACHE=$TMP/cache-json
kapply_json build/fail.img
expect_rc 1
task_event broken.s.1 | jq -e '.status == "failed"
	and .source == "fail.img:4:5" and .exit_status == 3
	and (.cmd | startswith("/bin/sh -c ")) and (.cmd | contains("the-last-words"))
	and (.stderr | endswith("noise-299\nthe-last-words")) and (.stderr | contains("noise-0\n") | not)
	and (.msg | contains("status 3"))' >/dev/null || fail "the failed task's event: $(task_event broken.s.1)"
[ "$(status_of broken.s.2)" = "" ] || fail "a task after the failure ran"
[ -z "$(jq -r 'select(.event == "stage_start" and .image == "child")' out)" ] || fail "child was built"
jq -r 'select(.event == "error" and .image == "child") | .msg' out | grep -q parent ||
	fail "no error event says child's parent was not built"
expect_status other.o.0 failed
expect_status other.o.1 changed
expect_recap broken 0 1 1 0 true
expect_recap child 0 0 0 0 true
expect_recap other 0 1 0 0 false
[ "$(jq -c 'select(.event == "recap" and .name == "other") | .ignored' out)" = 1 ] || fail "an ignored failure is not counted as ignored"
[ "$(jq -r 'select(.event == "artifact") | .path' out)" = out/other.tar ] ||
	fail "artifacts: $(jq -r 'select(.event == "artifact") | .path' out | tr '\n' ' ')"
[ -f build/out/other.tar ] || fail "other.tar was not written"
[ ! -e build/out/broken ] && [ ! -e build/out/broken.sha256 ] && [ ! -e build/out/child.tar ] ||
	fail "an output of a failed image was written: $(ls -A build/out | tr '\n' ' ')"
[ -z "$(temp_files build)" ] || fail "temporary files left: $(temp_files build)"

# a command that is not there: its exit status and kiln's message say so
cat >build/missing.img <<'EOF'
image m from busybox() {
  stage s { command "/usr/bin/no-such-command --flag" {} }
}
EOF
run_kiln_in build apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain missing.img
expect_rc 1
expect_match err '^missing\.img:2:13: error\[E5001\]: task command /usr/bin/no-such-command --flag failed'
expect_match err '^    exit status: 127$'
say "ok: a failure names its source, command, status and stderr tail; dependent images stop, others go on"
