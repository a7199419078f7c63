#!/bin/sh
# tests/runtime/t6197-apt-layer-reproducible.sh: an image's apt task leaves nothing that
# differs between two builds from the same repository: the stand-in apt-get of t6195 (its
# install also writes what apt, dpkg and ldconfig leave with the build's times: ldconfig's
# aux-cache, apt's binary caches, logs in /var/log/apt, dpkg's log and -old backups) builds
# twice; none of these is in the layers, and the layers are the same.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

# The stand-ins. apt-get update: the repositories of sources.list ("deb file:DIR ./") into
# the lists, as apt names them; install: each package from the lists (else status 100) into
# /usr/share/fake-pkgs/NAME (its version) and a .deb in the archives; clean: the archives.
# dpkg-query: what install left.
mkdir fake
cat >fake/apt-get <<'SH'
#!/bin/sh
L=/var/lib/apt/lists
case $1 in
update)
	echo "fake-apt: update"
	mkdir -p $L/partial
	[ -e $L/lock ] || : >$L/lock
	grep '^deb ' /etc/apt/sources.list | while read -r _ uri _; do
		d=${uri#file:}
		n=$(echo "$d" | tr / _)
		cp "$d/Packages" "$L/${n}_._Packages"
		printf 'Origin: fake\n' >"$L/${n}_._Release"
	done ;;
install)
	shift
	for a; do
		case $a in -*|Dpkg::*) continue ;; esac
		v=$(cat $L/*_Packages 2>/dev/null | awk -v p="$a" '$1 == "Package:" { f = ($2 == p) } f && $1 == "Version:" { print $2; exit }')
		[ -n "$v" ] || { echo "E: Unable to locate package $a" >&2; exit 100; }
		mkdir -p /usr/share/fake-pkgs /var/cache/apt/archives
		echo "$v" >/usr/share/fake-pkgs/$a
		echo deb >/var/cache/apt/archives/${a}_${v}_all.deb
		echo "fake-apt: installed $a $v"
		# what varies between builds: times, pids and inode numbers
		stamp="$(date +%s.%N) $$ $(ls -i /usr/share/fake-pkgs/$a)"
		mkdir -p /var/cache/ldconfig /var/log/apt /var/cache/apt/archives/partial /var/lib/dpkg /var/cache/debconf
		echo "$stamp" >/var/cache/ldconfig/aux-cache
		echo "$stamp" >/var/cache/apt/pkgcache.bin
		echo "$stamp" >/var/cache/apt/srcpkgcache.bin
		echo "$stamp" >/var/cache/apt/archives/partial/${a}_${v}_all.deb
		echo "$stamp" >/var/log/apt/history.log
		echo "$stamp" >/var/log/apt/history.log.1.gz
		echo "$stamp" >/var/log/apt/eipp.log.xz
		echo "$stamp" >/var/log/dpkg.log
		echo "$stamp" >/var/log/alternatives.log
		echo "$stamp" >/var/lib/dpkg/status-old
		echo "$stamp" >/var/cache/debconf/config.dat-old
	done ;;
clean) rm -f /var/cache/apt/archives/*.deb ;;
*) echo "fake apt-get: $1?" >&2; exit 100 ;;
esac
SH
cat >fake/dpkg-query <<'SH'
#!/bin/sh
st=0
for a; do
	case $a in -*) continue ;; esac
	if [ -f /usr/share/fake-pkgs/$a ]; then
		printf '%s\tinstall ok installed\t%s\n' "$a" "$(cat /usr/share/fake-pkgs/$a)"
	else
		st=1
	fi
done
exit $st
SH
# busybox's find has no -delete (apt's clean-up uses it): a shim first in PATH
cat >fake/find <<'SH'
#!/bin/sh
for a; do
	shift
	if [ "$a" = -delete ]; then set -- "$@" -exec rm -rf {} +; else set -- "$@" "$a"; fi
done
exec /bin/busybox find "$@"
SH
printf 'Package: one\nVersion: 1\n\nPackage: two\nVersion: 1\n' >fake/Packages
printf 'Package: two\nVersion: 2\n\nPackage: three\nVersion: 1\n' >fake/Packages2
printf 'Package: four\nVersion: 1\n' >fake/Packages4

# app.img: STAGE_TWO is the body of stage two; EXTRA more stages after it
write_img()
{
	cat >app.img <<IMG
image app from busybox() {
  stage fakeapt {
    file "/etc/apt" { state = "directory" }
    file "/var/lib/apt/lists/partial" { state = "directory" }
    file "/srv/repo" { state = "directory" }
    copy "/usr/bin/apt-get" { src = "fake/apt-get", mode = 0755 }
    copy "/usr/local/bin/" { src = "fake/find", mode = 0755 }
    copy "/usr/bin/dpkg-query" { src = "fake/dpkg-query", mode = 0755 }
    file "/etc/apt/sources.list" { content = "deb file:/srv/repo ./\n" }
    copy "/srv/repo/Packages" { src = "fake/Packages" }
  }
  stage one { apt "one" {} }
  stage two { $1 }
$2
  output oci "img/app" { tag = "app:latest" }
}
IMG
}

# updates: how many times the last apply ran apt-get update
updates()
{
	grep -c 'fake-apt: update' err || true
}

# layer_list N: the files of layer N of img/app
layer_list()
{
	cfg=$(jq -r '.manifests[0].digest' img/app/index.json | sed 's/sha256://')
	l=$(jq -r ".layers[$1].digest" "img/app/blobs/sha256/$cfg" | sed 's/sha256://')
	tar -tzf "img/app/blobs/sha256/$l" 2>/dev/null || tar -tf "img/app/blobs/sha256/$l"
}
layer_digest()
{
	cfg=$(jq -r '.manifests[0].digest' img/app/index.json | sed 's/sha256://')
	jq -r ".layers[$1].digest" "img/app/blobs/sha256/$cfg"
}


write_img 'apt "two" {}' ''
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply failed: $(tail -n 5 err)"
grep -q 'fake-apt: installed two 1' err || fail "two not installed: $(grep fake-apt err)"
first2=$(layer_digest 2)
first3=$(layer_digest 3)
for n in 2 3; do
	layer_list $n >layer$n.list
	grep -q 'usr/share/fake-pkgs/' layer$n.list || fail "layer $n has no package: $(cat layer$n.list)"
	if grep -E 'aux-cache|\.bin$|var/log/.+\.|-old$|partial/.+' layer$n.list; then
		fail "layer $n holds what differs between builds"
	fi
done

# a second build from scratch: the same layers
sleep 1
rm -rf img "$CACHE"
kapply -v app.img
[ "$rc" -eq 0 ] || fail "second apply failed: $(tail -n 5 err)"
[ "$(layer_digest 2)" = "$first2" ] || fail "stage one's layer differs between two builds"
[ "$(layer_digest 3)" = "$first3" ] || fail "stage two's layer differs between two builds"
say "ok: apt layers are the same in two builds"
