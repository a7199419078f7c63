#!/bin/sh
# kiln fmt: one layout, idempotent and meaning-preserving on every example and on
# every .img of the compile corpus that parses; --check, --diff, '-', directories,
# atomic rewrites that keep the mode, files with syntax errors left alone.
. "$(dirname "$0")/../lib/test-lib.sh"
# a plan without its "source" positions (file:line:col moves when lines are
# re-indented); plans have one key per line
strip()
{
	grep -v '^ *"source": "[^"]*",\{0,1\}$' "$1"
}

n_ok=0
n_parse_err=0
for f in "$TOP"/examples/*.img "$TOP"/examples/roles/*.img $(find "$TOP/tests/compile" -name '*.img' | sort); do
	rc=0
	timeout 60 $KILN fmt - <"$f" >a.img 2>err || rc=$?
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 1 ] || fail "fmt - <$f: exit $rc"
		[ ! -s a.img ] || fail "fmt - <$f: a file that does not parse gave output"
		grep -q '^<stdin>' err || fail "fmt - <$f: the error does not name the text"
		n_parse_err=$((n_parse_err + 1))
		continue
	fi
	# idempotent
	timeout 60 $KILN fmt - <a.img >b.img 2>err || fail "fmt of fmt's output of $f failed"
	cmp -s a.img b.img || { diff a.img b.img | head -20 >&2; fail "fmt is not idempotent on $f"; }
	# meaning-preserving: the same plan (or the same failure), compiled in a copy
	# of the file's directory (made once per directory)
	d=$(dirname "$f")
	b=$(basename "$f")
	work=$TMP/w$(printf '%s' "$d" | md5sum | cut -c1-8)
	if [ ! -d "$work" ]; then
		mkdir -p "$work"
		cp -R "$d/." "$work/"
	fi
	r1=0
	(cd "$work" && timeout 60 $KILN compile -o "$TMP/p1.json" "$b") >/dev/null 2>&1 || r1=$?
	cp a.img "$work/$b"
	r2=0
	(cd "$work" && timeout 60 $KILN compile -o "$TMP/p2.json" "$b") >/dev/null 2>&1 || r2=$?
	cp "$f" "$work/$b"
	[ "$r1" -eq "$r2" ] || fail "$f: compile exits $r1, of the formatted file $r2"
	if [ "$r1" -eq 0 ]; then
		strip p1.json >p1.s
		strip p2.json >p2.s
		cmp -s p1.s p2.s || { diff p1.s p2.s | head -20 >&2; fail "$f: the formatted file's plan differs"; }
	fi
	rm -f p1.json p2.json
	n_ok=$((n_ok + 1))
done
[ "$n_ok" -ge 100 ] || fail "only $n_ok files formatted (the corpus went missing?)"
[ "$n_parse_err" -ge 10 ] || fail "only $n_parse_err files with syntax errors"
say "$n_ok files formatted, $n_parse_err refused for syntax errors"

# --check and --diff change nothing, name the file, exit 1
mkdir -p proj/sub proj/.hidden
printf 'image a from scratch() {\n    stage s {\n    file "/x" { content="x"\n    mode = 0644 }\n  }\n}\n' >proj/sub/ugly.img
printf 'image b from scratch() {}\n' >proj/clean.img
printf 'image c from scratch() {\n   }\n' >proj/.hidden/skipped.img
printf 'not kiln\n' >proj/notes.txt
chmod 640 proj/sub/ugly.img
cp proj/sub/ugly.img ugly.orig
run_kiln fmt --check proj
expect_rc 1
[ "$(cat out)" = "proj/sub/ugly.img" ] || fail "--check does not name exactly the file to change"
cmp -s proj/sub/ugly.img ugly.orig || fail "--check changed the file"
run_kiln fmt --diff proj/sub/ugly.img
expect_rc 0
expect_match out '^--- proj/sub/ugly.img$' "--diff has no header"
expect_match out '^\+      mode = 0644 }$' "--diff does not show the new layout"
expect_match out '^-    mode = 0644 }$' "--diff does not show the old layout"
cmp -s proj/sub/ugly.img ugly.orig || fail "--diff changed the file"
run_kiln fmt --check --diff proj
expect_rc 1
expect_match out '^\+\+\+ proj/sub/ugly.img$' "--check --diff shows no diff"

# rewrite: only the file that changes, atomically, keeping its mode
ino_clean=$(stat -c %i proj/clean.img)
run_kiln fmt proj
expect_rc 0
[ "$(cat out)" = "proj/sub/ugly.img" ] || fail "fmt does not name the file it rewrote"
[ "$(stat -c %a proj/sub/ugly.img)" = 640 ] || fail "the rewritten file lost its mode"
[ "$(stat -c %i proj/clean.img)" = "$ino_clean" ] || fail "an unchanged file was rewritten"
cat >want.img <<'IMG'
image a from scratch() {
  stage s {
    file "/x" { content = "x"
      mode = 0644 }
  }
}
IMG
cmp -s proj/sub/ugly.img want.img || { diff want.img proj/sub/ugly.img >&2; fail "unexpected layout"; }
[ "$(cat proj/.hidden/skipped.img)" = "$(printf 'image c from scratch() {\n   }')" ] ||
	fail "a hidden directory was formatted"
ls -a proj/sub | grep -q kiln-tmp && fail "a temporary was left behind"
run_kiln fmt --check proj
expect_rc 0

# a symlink: its target is rewritten, the link stays
printf 'image l  from scratch() {}\n' >target.img
ln -s target.img link.img
run_kiln fmt link.img
expect_rc 0
[ -L link.img ] || fail "the symlink was replaced"
[ "$(cat target.img)" = 'image l from scratch() {}' ] || fail "the symlink's target was not formatted"

# a syntax error: the file is not touched, the error has file:line:col, exit 1
printf 'image a from scratch() {\n  stage s {\n    file "/x" { content = }\n  }\n}\n' >broken.img
cp broken.img broken.orig
run_kiln fmt broken.img proj/clean.img
expect_rc 1
expect_match err 'broken.img:3:' "no file:line:col for the syntax error"
cmp -s broken.img broken.orig || fail "a file with a syntax error was changed"

# '-': standard input to standard output; --stdin-filename names it
rc=0
printf 'param  x:int=1\n' | timeout 60 $KILN fmt - >out 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "fmt -: exit $rc"
[ "$(cat out)" = 'param x: int = 1' ] || fail "fmt - printed: $(cat out)"
rc=0
printf 'param  x:int=1\n' | timeout 60 $KILN fmt --check - >out 2>err || rc=$?
[ "$rc" -eq 1 ] || fail "fmt --check - of an unformatted text: exit $rc"
rc=0
timeout 60 $KILN fmt --stdin-filename=dir/unsaved.img - <broken.img >out 2>err || rc=$?
[ "$rc" -eq 1 ] || fail "fmt - of a broken text: exit $rc"
expect_match err 'dir/unsaved.img:3:' "the error does not name --stdin-filename"
[ ! -s out ] || fail "fmt - of a broken text printed something"

# a var-file (.kvars) is NAME = VALUE lines
rc=0
printf 'a=1\nbb  =  [1,2]\n' | timeout 60 $KILN fmt --stdin-filename=v.kvars - >out 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "fmt - of a var-file: exit $rc"
[ "$(cat out)" = "$(printf 'a  = 1\nbb = [1, 2]')" ] || fail "fmt - of a var-file printed: $(cat out)"

# usage errors
run_kiln fmt
expect_rc 2
run_kiln fmt --chek x.img
expect_rc 2
expect_match err "did you mean '--check'" "no suggestion for a mistyped option"
run_kiln fmt - x.img
expect_rc 2
run_kiln fmt missing.img
expect_rc 1
exit 0
