#!/bin/sh
# tests/runtime/t5051-debian-clean.sh: the tree debian() gives carries nothing of the build
# machine and nothing that varies between two debootstraps, as Debian's container images:
# with a stand-in debootstrap first in PATH (fast, no network) that leaves what the real one
# leaves (the build machine's resolv.conf and hostname, dpkg/apt/alternatives/bootstrap
# logs, ldconfig's aux-cache, apt's binary caches and lists, debconf's and dpkg's -old
# files, a machine-id, device nodes in /dev), those are gone or emptied, apt is configured
# to drop its downloads (docker-clean, mode 0644 whatever the umask), and the cache hit
# gives the same tree.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"
[ "$(id -u)" -eq 0 ] || skip "debootstrap runs as root"
unshare -m true 2>/dev/null || skip "needs mount namespaces"

FAKE=$TMP/fakebin
mkdir -p "$FAKE"
cat >"$FAKE/debootstrap" <<'EOF'
#!/bin/sh
n=$#
t=$(eval echo "\${$((n - 1))}")
cd "$t" || exit 99
mkdir -p etc/apt/apt.conf.d var/log/apt var/cache/ldconfig var/cache/apt/archives/partial \
	var/lib/apt/lists/partial var/cache/debconf var/lib/dpkg var/lib/dbus dev/pts usr/bin
cp /etc/resolv.conf etc/resolv.conf 2>/dev/null || echo 'nameserver 192.0.2.1' >etc/resolv.conf
echo build-machine.example >etc/hostname
echo 0123456789abcdef0123456789abcdef >etc/machine-id
ln -s /etc/machine-id var/lib/dbus/machine-id
for f in var/log/dpkg.log var/log/bootstrap.log var/log/alternatives.log var/log/apt/history.log \
	var/log/apt/term.log var/cache/ldconfig/aux-cache var/cache/apt/pkgcache.bin \
	var/cache/apt/srcpkgcache.bin var/cache/apt/archives/libc6_2.36_amd64.deb \
	var/cache/apt/archives/partial/x.deb var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease \
	var/lib/apt/lists/deb.debian.org_dists_bookworm_main_binary-amd64_Packages \
	var/cache/debconf/config.dat-old var/lib/dpkg/status-old; do
	date +%s.%N >"$f"
done
touch var/lib/apt/lists/lock var/lib/dpkg/status var/cache/debconf/config.dat
mknod dev/null c 1 3 && mknod dev/zero c 1 5 && mknod dev/pts/ptmx c 5 2 && mkfifo dev/initctl
ln -s /proc/self/fd dev/fd
echo '#!/bin/sh' >usr/bin/apt-get
echo "I: Base system installed successfully."
EOF
chmod 755 "$FAKE/debootstrap"
PATH=$FAKE:$PATH
export PATH

ARGS='{"base": "debian", "args": {"suite": "bookworm", "variant": "minbase", "mirror": "http://deb.debian.org/debian"}}'
check_tree()
{
	d=$1
	for f in etc/resolv.conf var/log/dpkg.log var/log/bootstrap.log var/log/alternatives.log \
		var/log/apt/history.log var/log/apt/term.log var/cache/ldconfig/aux-cache \
		var/cache/apt/pkgcache.bin var/cache/apt/srcpkgcache.bin \
		var/cache/apt/archives/libc6_2.36_amd64.deb var/cache/apt/archives/partial/x.deb \
		var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease \
		var/lib/apt/lists/deb.debian.org_dists_bookworm_main_binary-amd64_Packages \
		var/cache/debconf/config.dat-old var/lib/dpkg/status-old var/lib/dbus/machine-id; do
		[ ! -e "$d/$f" ] && [ ! -L "$d/$f" ] || fail "$2: $f is still in the tree"
	done
	for f in var/lib/dpkg/status var/cache/debconf/config.dat; do
		[ -e "$d/$f" ] || fail "$2: $f was removed"
	done
	[ -d "$d/var/lib/apt/lists/partial" ] && [ -d "$d/var/cache/apt/archives/partial" ] ||
		fail "$2: apt's partial directories were removed"
	[ "$(cat "$d/etc/hostname")" = localhost ] || fail "$2: hostname $(cat "$d/etc/hostname")"
	[ -f "$d/etc/machine-id" ] && [ ! -s "$d/etc/machine-id" ] || fail "$2: machine-id not emptied"
	[ -z "$(find "$d/dev" \( -type c -o -type b -o -type p \) -print)" ] ||
		fail "$2: device nodes in /dev: $(find "$d/dev" \( -type c -o -type b -o -type p \) -print)"
	[ -L "$d/dev/fd" ] && [ -d "$d/dev/pts" ] || fail "$2: /dev's links and directories went too"
	grep -q 'DPkg::Post-Invoke.*archives/\*\.deb' "$d/etc/apt/apt.conf.d/docker-clean" ||
		fail "$2: apt is not configured to drop its .debs"
	[ "$(stat -c %a "$d/etc/apt/apt.conf.d/docker-clean")" = 644 ] ||
		fail "$2: docker-clean has mode $(stat -c %a "$d/etc/apt/apt.conf.d/docker-clean")"
}

umask 077
create "$ARGS" "$TMP/d1"
umask 022
expect_rc 0
expect_match err "debootstrap bookworm"
check_tree "$TMP/d1" debootstrap
tree_list "$TMP/d1" | awk '{ $7 = ""; print }' >want.tree
rm -f "$FAKE/debootstrap"
create "$ARGS" "$TMP/d2"
expect_rc 0
expect_match err "cache hit"
check_tree "$TMP/d2" "cache hit"
tree_list "$TMP/d2" | sed 's|/d2|/d1|' | awk '{ $7 = ""; print }' >got.tree
diff -u want.tree got.tree >diff || fail "the cached tree differs: $(head -20 diff)"
say "ok: the Debian tree holds nothing of the build machine or of the build"
