#!/bin/sh
# tests/runtime/t6083-apply-secret-cache-key.sh: a stage's cache key covers only the secrets
# its tasks and the handlers they notify read, each as HMAC-SHA256 under a random key kept in
# the cache directory (secret-key: a regular file, ours, mode 0600, 32 bytes). Rotating
# secret A keeps the stages that do not read A cached (a handler that reads A and that they
# do not notify does not count) and rebuilds the ones that do (a task, or a handler a task
# notifies), and the stages after them. The plain SHA-256 of a secret is nowhere under the
# cache directory nor in the output. A secret-key that is not a regular file of ours with
# mode 0600 (another mode, another owner, a FIFO, a symbolic link) is refused: the stages
# that read a secret are neither replayed nor stored, the others still are. --check on a
# new cache directory makes no key.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

mkdir build
cat >build/k.img <<'EOF2'
param a: secret
param b: secret
image k from busybox() {
  stage plain {
    file "/etc/plain" { content = "no secret here\n" }
  }
  stage uses_b {
    file "/etc/b" { content = "${b}\n", mode = 0600 }
  }
  stage notifies {
    file "/etc/notified" { content = "x\n", notify = [write_a] }
  }
  stage uses_a {
    file "/etc/a" { content = "${a}\n", mode = 0600 }
  }
  handler write_a {
    file "/etc/a-from-handler" { content = "${a}\n", mode = 0600 }
  }
}
EOF2
A1=Alpha-Secret-Ibex-1111
A2=Alpha-Secret-Ibex-2222
B1=Beta-Secret-Gecko-3333
B2=Beta-Secret-Gecko-4444

# run A B [ARGS...]: apply with these values, JSON events
run()
{
	_a=$1 _b=$2
	shift 2
	KILN_VAR_a=$_a KILN_VAR_b=$_b kapply_json "$@" build/k.img
	expect_rc 0
}
# ran EXPECTED: the tasks the last run started, on one line
ran()
{
	_r=$(ran_tasks | tr '\n' ' ')
	[ "$_r" = "$1" ] || fail "expected the tasks '$1' to run, got '$_r'"
}

run $A1 $B1
ran 'k.plain.0 k.uses_b.0 k.notifies.0 k.handler.write_a.0 k.uses_a.0 '
KEY=$CACHE/secret-key
[ -f "$KEY" ] && [ ! -L "$KEY" ] || fail "no secret-key in the cache directory"
[ "$(stat -c '%a %s %u' "$KEY")" = "600 32 $(id -u)" ] ||
	fail "secret-key is $(stat -c '%a %s %u' "$KEY"), not mode 600, 32 bytes, ours"

run $A1 $B1
ran ''
# rotating a: the stage whose task notifies the handler that reads it runs again, and the
# one that reads it; not those before (the handler is the image's, but they do not notify it)
run $A2 $B1
ran 'k.notifies.0 k.handler.write_a.0 k.uses_a.0 '
expect_status k.uses_a.0 changed
# rotating b: its stage runs again, and the one after it (it starts from it)
run $A2 $B2
ran 'k.uses_b.0 k.notifies.0 k.handler.write_a.0 k.uses_a.0 '
run $A2 $B2
ran ''

# no plain SHA-256 of a secret under the cache directory, in a file or a name, or in the output
for v in $A1 $A2 $B1 $B2; do
	h=$(printf '%s' "$v" | sha256sum | cut -c1-64)
	h12=$(printf '%s' "$h" | cut -c1-12)
	if grep -r -a -l -e "$h" -e "$h12" "$CACHE" >/dev/null 2>&1; then
		fail "the SHA-256 of $v is in $(grep -r -a -l -e "$h" -e "$h12" "$CACHE" | head -n 1)"
	fi
	[ -z "$(find "$CACHE" -name "*$h12*")" ] || fail "a file name under the cache holds the SHA-256 of $v"
	grep -q -e "$h12" -e "$v" out err && fail "the output holds $v or its SHA-256"
done

# a key of the wrong mode is refused, and so is a symbolic link
chmod 0644 "$KEY"
run $A2 $B2
ran 'k.uses_b.0 k.notifies.0 k.handler.write_a.0 k.uses_a.0 '
expect_match out 'the stage cache is not used: .*secret-key is not a regular file of 32 bytes owned by this user with mode 0600'
[ "$(grep -c 'the stage cache is not used' out)" = 1 ] || fail "the refused key is not reported once"
grep -q 'stored in the stage cache' out && fail "a stage was stored with a refused key"
chmod 0600 "$KEY"
cp -p "$KEY" "$TMP/elsewhere-key"
# another owner
chown 65534 "$KEY"
run $A2 $B2
ran 'k.uses_b.0 k.notifies.0 k.handler.write_a.0 k.uses_a.0 '
expect_match out 'secret-key is not a regular file of 32 bytes owned by this user'
# not a regular file (a FIFO: opening it must not hang)
rm "$KEY"
mkfifo -m 0600 "$KEY"
run $A2 $B2
ran 'k.uses_b.0 k.notifies.0 k.handler.write_a.0 k.uses_a.0 '
expect_match out 'secret-key is not a regular file'
rm "$KEY"
ln -s "$TMP/elsewhere-key" "$KEY"
run $A2 $B2
ran 'k.uses_b.0 k.notifies.0 k.handler.write_a.0 k.uses_a.0 '
expect_match out 'secret-key is a symbolic link'
rm "$KEY"

# --check on a new cache directory: no key is made, nothing is stored
run $A1 $B1 --check --cache-dir="$TMP/cache-check"
[ ! -e "$TMP/cache-check/secret-key" ] || fail "--check made a secret-key"
say "ok: stage keys cover the secrets each stage reads, as keyed hashes"
