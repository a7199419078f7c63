#!/bin/sh
# tests/runtime/t5021-extract-unprivileged.sh: extract.c run by an ordinary user (as the
# unarchive module may be): device nodes are skipped and counted, not refused; owners stay
# the user's; modes are kept (setuid too); a read-only directory still gets its children
# (its mode is set at the end); a FIFO is made.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to switch to an ordinary user"
need setpriv
need python3

cat >gen.py <<'EOF'
import io, tarfile, sys
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, type=tarfile.REGTYPE, mode=0o644, data=None, **kw):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = type, mode, 1234, 5678, 1700000000
        for k, v in kw.items():
            setattr(ti, k, v)
        if data is not None:
            ti.size = len(data)
        t.addfile(ti, io.BytesIO(data) if data is not None else None)
    add("ro", tarfile.DIRTYPE, 0o555)
    add("ro/file", data=b"inside a read-only directory\n")
    add("suid", mode=0o4755, data=b"#!/bin/sh\n")
    add("null", tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3)
    add("fifo", tarfile.FIFOTYPE, 0o600)
EOF
python3 gen.py "$TMP/a.tar"
chmod 0755 "$TMP"
chmod 0644 "$TMP/a.tar"
mkdir "$TMP/d"
chown 65534:65534 "$TMP/d"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups $BASE_TEST extract "$TMP/a.tar" "$TMP/d" \
	>"$TMP/out" 2>"$TMP/err" || rc=$?
check_not_crashed extract as nobody
expect_rc 0
[ "$(cat "$TMP/d/ro/file")" = "inside a read-only directory" ] || fail "ro/file is missing"
[ "$(stat -c %a "$TMP/d/ro")" = 555 ] || fail "ro is not 0555"
[ "$(stat -c %a:%u "$TMP/d/suid")" = 4755:65534 ] || fail "suid is $(stat -c %a:%u "$TMP/d/suid")"
[ -p "$TMP/d/fifo" ] || fail "the FIFO is missing"
[ ! -e "$TMP/d/null" ] || fail "an ordinary user made a device node"
expect_match "$TMP/err" "^progress: 4 entries, .* 1 devices skipped"
chmod -R u+w "$TMP/d"
