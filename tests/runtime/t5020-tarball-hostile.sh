#!/bin/sh
# tests/runtime/t5020-tarball-hostile.sh: hostile archives are refused as a whole, with an
# error naming the entry, and nothing is written outside the destination (a canary
# directory beside it stays as it was, the host's /etc/passwd gains no link), and the
# destination is left empty: "../x", "/x", hard links to "../../etc/passwd" and
# "/etc/passwd", a symlink to the canary followed by a write through it (CVE-2021-29136's
# shape), the same through "a -> /", a hard link through a symlink, symlink loops.
# Symlinks already in the tree (a lower layer's) resolve inside the root.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"
need python3

CANARY=$TMP/canary
mkdir -p "$CANARY/sub"
echo original >"$CANARY/file"
ABS=/tmp/kiln-t5020-$$ # where an absolute name would land
rm -rf "$ABS"
canary_state()
{
	(cd "$CANARY" && find . -printf '%p %y %s %n %T@\n' | sort && cat file)
}
canary_state >canary.before
host_links()
{
	stat -c %h /etc/passwd 2>/dev/null || echo none
}
passwd_links=$(host_links)

# gen.py NAME SPEC...: a tar with one entry per SPEC, "TYPE:NAME[:TARGET]", TYPE one of
# f (file), d (directory), l (symlink), h (hard link).
cat >gen.py <<'EOF'
import io, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for spec in specs:
        kind, name, *rest = spec.split(":", 2)
        ti = tarfile.TarInfo(name)
        ti.mtime = 1700000000
        ti.mode = 0o755 if kind == "d" else 0o644
        data = None
        if kind == "f":
            data = b"evil\n"
            ti.size = len(data)
        elif kind == "d":
            ti.type = tarfile.DIRTYPE
        elif kind == "l":
            ti.type, ti.linkname = tarfile.SYMTYPE, rest[0]
        elif kind == "h":
            ti.type, ti.linkname = tarfile.LNKTYPE, rest[0]
        t.addfile(ti, io.BytesIO(data) if data else None)
EOF

# hostile NAME ERE SPEC...: the archive is refused with an error matching ERE.
hostile()
{
	_name=$1 _ere=$2
	shift 2
	python3 gen.py "$TMP/$_name.tar" "$@" || fail "cannot make $_name.tar"
	D=$TMP/dest/root
	create "{\"base\": \"tarball\", \"args\": {\"path\": \"$TMP/$_name.tar\"}}" "$D"
	expect_refused "$_ere"
	[ -z "$(ls -A "$D")" ] || fail "$_name: the refused archive left files: $(ls -A "$D")"
	canary_state >canary.after
	cmp -s canary.before canary.after || fail "$_name: the canary directory changed"
	[ ! -e "$ABS" ] && [ ! -e "$TMP/dest/x" ] && [ ! -e "$TMP/x" ] ||
		fail "$_name: a file was written outside the destination"
	[ "$(host_links)" = "$passwd_links" ] || fail "$_name: /etc/passwd got a link"
}

hostile dotdot "entry '\\.\\./x': refused: '\\.\\.' component" f:ok f:../x
hostile dotdot-deep "entry 'a/\\.\\./\\.\\./x': refused: '\\.\\.' component" d:a f:a/../../x
hostile absolute "entry '$ABS': refused: absolute name" f:ok "f:$ABS"
hostile hardlink-up "entry 'pw': hard link to '\\.\\./\\.\\./etc/passwd' refused: '\\.\\.'" \
	f:ok h:pw:../../etc/passwd
hostile hardlink-canary "entry 'pw': hard link to '\\.\\./canary/file' refused: '\\.\\.'" \
	f:ok h:pw:../canary/file
hostile hardlink-abs "entry 'pw': hard link to '/etc/passwd' refused: absolute name" \
	h:pw:/etc/passwd
hostile symlink-write "entry 'a/file': refused: written through symlink 'a' made by an earlier entry" \
	"l:a:$CANARY" f:a/file
hostile symlink-deep "entry 'a/sub/file': refused: written through symlink 'a'" \
	"l:a:$CANARY" f:a/sub/file
hostile symlink-rel "entry 'd/a/file': refused: written through symlink 'd/a'" \
	d:d "l:d/a:../../canary" f:d/a/file
hostile symlink-root "entry 'a/etc/passwd': refused: written through symlink 'a'" \
	l:a:/ f:a/etc/passwd
hostile symlink-dir "entry 'a/sub/?': refused: written through symlink 'a'" \
	"l:a:$CANARY" d:a/sub
hostile symlink-hardlink "entry 'h': refused: hard link target 'l/passwd' goes through symlink 'l'" \
	l:l:/etc h:h:l/passwd
hostile symlink-loop "entry 'a/file': refused: written through symlink 'a'" \
	l:a:b l:b:a f:a/file
hostile self-loop "entry 'a/file': refused: written through symlink 'a'" l:a:a f:a/file

# A symlink an archive replaces with a directory is a directory again: writes go into it.
python3 gen.py "$TMP/replaced.tar" "l:a:$CANARY" d:a f:a/file
create "{\"base\": \"tarball\", \"args\": {\"path\": \"$TMP/replaced.tar\"}}" "$TMP/dest/root"
expect_rc 0
[ -d "$TMP/dest/root/a" ] && [ ! -L "$TMP/dest/root/a" ] && [ -f "$TMP/dest/root/a/file" ] ||
	fail "a symlink replaced by a directory did not take the file"
canary_state >canary.after
cmp -s canary.before canary.after || fail "replaced: the canary directory changed"

# Symlinks already in the tree (as a lower layer leaves them) resolve inside the root:
# the file lands under DEST/<canary's path>, never in the canary.
D=$TMP/dest/pre
mkdir -p "$D/$CANARY"
ln -s "$CANARY" "$D/pre"
ln -s ../../../../../../../.. "$D/up"
python3 gen.py "$TMP/pre.tar" f:pre/file f:up/tmp-file
base extract "$TMP/pre.tar" "$D"
expect_rc 0
[ -f "$D/$CANARY/file" ] && [ -f "$D/tmp-file" ] || fail "pre-existing symlinks did not resolve in the root"
canary_state >canary.after
cmp -s canary.before canary.after || fail "pre-existing symlink: the canary directory changed"

# A symlink loop already in the tree: ELOOP, named.
D=$TMP/dest/loop
mkdir -p "$D"
ln -s l2 "$D/l1"
ln -s l1 "$D/l2"
python3 gen.py "$TMP/loop.tar" f:l1/file
base extract "$TMP/loop.tar" "$D"
expect_refused "entry 'l1/file': cannot open directory 'l1': Too many levels of symbolic links"
rm -rf "$ABS"
