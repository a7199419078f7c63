#!/bin/sh
# tests/runtime/t6091-debian-reproducible.sh (slow: two debootstraps, network): two clean
# builds of a Debian image (separate caches and work directories, other paths, time zones,
# umasks and locales, no SOURCE_DATE_EPOCH) give the same OCI manifest digest and the same
# tar sha256. The base carries nothing of the build machine (resolv.conf, hostname) and
# nothing that varies between builds (logs, ldconfig's aux-cache, apt's binary caches,
# debconf's -old files, machine-id), and no device nodes. A stage that installs less leaves
# no .debs and no package lists in its layer (its size is reported); the next apt task,
# without update_cache, still installs (it updates the lists it finds missing).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || skip "needs debootstrap"
need curl
KILN_TEST_TIMEOUT=${KILN_TEST_TIMEOUT_SLOW:-1800}
MIRROR=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list \
	/etc/apt/sources.list.d/*.list 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
curl -fsI --max-time 15 "${MIRROR%/}/dists/bookworm/InRelease" >/dev/null 2>&1 ||
	skip "no network to the mirror $MIRROR"

# build DIR TZ UMASK LOCALE: a clean build in DIR, with its own cache and work directories
build()
{
	mkdir -p "$TMP/$1"
	cat >"$TMP/$1/deb.img" <<'IMG'
image deb from debian("bookworm", variant = "minbase") {
  stage pager {
    apt "less" { update_cache = true }
  }
  stage magic {
    apt "libmagic-mgc" {}
  }
  output oci "out/deb" { tag = "deb:1" }
  output tar "out/deb.tar" {}
}
IMG
	(
		cd "$TMP/$1" && umask "$3" && TZ=$2 LC_ALL=$4 LANG=$4 &&
			export TZ LC_ALL LANG &&
			timeout -k 10 "$KILN_TEST_TIMEOUT" $KILN apply --work-dir="$TMP/$1/work" \
				--cache-dir="$TMP/$1/cache" --progress=plain deb.img \
				>"$TMP/out" 2>"$TMP/err"
	) || fail "apply in $1 failed"
}

build one UTC 022 C
build two/other/dir Asia/Tokyo 077 C.UTF-8
a=$TMP/one/out b=$TMP/two/other/dir/out
[ "$(oci_digest "$a/deb")" = "$(oci_digest "$b/deb")" ] ||
	fail "OCI manifest digests differ: $(oci_digest "$a/deb") vs $(oci_digest "$b/deb")"
[ "$(sha256sum <"$a/deb.tar")" = "$(sha256sum <"$b/deb.tar")" ] || fail "tar sha256 differs"

# the base: nothing of the build machine, nothing that varies, no device nodes
tar -tvf "$a/deb.tar" >all.list
tar -tf "$a/deb.tar" >names.list
for f in etc/resolv.conf var/log/dpkg.log var/log/bootstrap.log var/log/alternatives.log \
	var/cache/ldconfig/aux-cache var/cache/apt/pkgcache.bin var/cache/apt/srcpkgcache.bin \
	var/cache/debconf/config.dat-old var/lib/dpkg/status-old; do
	! grep -qx "$f" names.list || fail "$f is in the image"
done
! grep -q '^[cbp]' all.list || fail "device nodes in the image: $(grep '^[cbp]' all.list | head -3)"
[ "$(tar -xOf "$a/deb.tar" etc/hostname)" = localhost ] || fail "etc/hostname is the build machine's"
[ -z "$(tar -xOf "$a/deb.tar" etc/machine-id 2>/dev/null)" ] || fail "etc/machine-id not empty"
grep -q '^var/lib/apt/lists/.*Packages' names.list && fail "package lists in the image"
grep -q '^var/cache/apt/archives/.*\.deb$' names.list && fail ".debs in the image"
grep -qx 'usr/bin/less' names.list || fail "less not installed"
grep -qx 'usr/share/misc/magic.mgc' names.list || fail "libmagic-mgc not installed"

# the layer of stage pager: less, no .debs, no lists, no usr/sbin/ of policy-rc.d
m=$(oci_digest "$a/deb" | sed 's/sha256://')
l1=$(jq -r '.layers[1].digest' "$a/deb/blobs/sha256/$m" | sed 's/sha256://')
gzip -dc "$a/deb/blobs/sha256/$l1" >pager.tar
tar -tf pager.tar >pager.list
grep -qx 'usr/bin/less' pager.list || fail "less is not in the layer of stage pager"
grep -q '\.deb$' pager.list && fail ".debs in the layer of stage pager"
grep -q '^var/lib/apt/lists/.*Packages' pager.list && fail "package lists in the layer of stage pager"
grep -qx 'usr/sbin/' pager.list && fail "usr/sbin/ in the layer of stage pager"
size=$(wc -c <pager.tar)
say "the layer that installs less: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.2f MB", s / 1e6 }'))"
[ "$size" -lt 5000000 ] || fail "the layer that installs less is $size bytes"
say "ok: two clean Debian builds give byte-identical artifacts"
