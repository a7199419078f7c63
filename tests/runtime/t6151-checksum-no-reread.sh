#!/bin/sh
# tests/runtime/t6151-checksum-no-reread.sh: the checksum output sums the files the same
# apply just wrote without reading them again: a tarball's sha256 is the one its writer
# computed while writing it, an OCI layout's blobs are named by theirs. The sums are
# right (sha256sum -c), and kiln never opens the finished tarball or a blob of the
# finished layout (strace). A file that is not an artifact of the build (args.of) and
# sha512 sums are read as before.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need strace
need sha256sum
need sha512sum

mkdir -p src
cat >src/c.img <<'EOF'
image c from busybox() {
  stage s {
    file "/data.txt" { content = "some data\n" }
  }
  output oci "dist/c" { tag = "c:1" }
  output tar "dist/c.tar.zst" {}
  output tar "dist/c.tar" {}
  output checksum "dist/SHA256SUMS" {}
  output checksum "dist/SHA512SUMS" { algorithm = "sha512" }
}
EOF
cd src
KILN_REAL=$KILN
KILN="strace -f -qq -e trace=open,openat -o $TMP/trace $KILN_REAL"
# LeakSanitizer cannot run under ptrace: a sanitizer build is checked for leaks elsewhere
saved_asan=${ASAN_OPTIONS-}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
kapply c.img
export ASAN_OPTIONS="$saved_asan"
KILN=$KILN_REAL
[ "$rc" -eq 0 ] || fail "apply failed: $(cat "$TMP/err")"
(cd dist && sha256sum -c --quiet SHA256SUMS) >check.out 2>&1 || fail "sha256sum -c: $(cat check.out)"
(cd dist && sha512sum -c --quiet SHA512SUMS) >check.out 2>&1 || fail "sha512sum -c: $(cat check.out)"
grep -q 'c.tar.zst$' dist/SHA256SUMS || fail "the tarball is not summed: $(cat dist/SHA256SUMS)"
grep -q 'c/blobs/sha256/' dist/SHA256SUMS || fail "the layout is not summed"

# the sha256 sums read nothing back; the sha512 ones do read the files (that is how
# this trace can tell: the same files, opened read-only under their final names)
n256=$(grep -c '' dist/SHA256SUMS)
opened=$(grep -E "\"([^\"]*/)?dist/(c\\.tar\\.zst|c\\.tar|c/blobs/sha256/[0-9a-f]{64})\", O_RDONLY" \
	"$TMP/trace" | grep -vc ENOENT || true)
nfiles=$(grep -Ec '  (c\.tar\.zst|c\.tar|c/blobs/sha256/[0-9a-f]{64})$' dist/SHA512SUMS)
[ "$nfiles" -ge 5 ] || fail "SHA512SUMS names $nfiles tarballs and blobs: $(cat dist/SHA512SUMS)"
[ "$opened" -eq "$nfiles" ] ||
	fail "the finished artifacts were opened $opened times, expected $nfiles (once each, for sha512 only; $n256 sha256 sums)"
say "ok: checksum sums the build's files without reading them again"
