#!/bin/sh
# tests/runtime/t6195-apt-lists-reused.sh: within one apply, an image's apt task that finds no
# package lists puts back the ones an earlier apt task downloaded for the same sources instead
# of running apt-get update again. A busybox image with a stand-in apt-get, dpkg-query and a
# repository in the tree (apt proper needs a debootstrapped tree: t1109): two apt tasks in two
# stages update once; the layers hold no lists and no .debs, and the second stage's layer is
# the one it has when it downloads the lists itself (update_cache = true); update_cache still
# updates and refreshes the copy the next task gets; other sources download again; nothing is
# left in the work directory.
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

# two apt tasks in two stages: one apt-get update
write_img 'apt "two" {}' ''
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply failed: $(tail -n 5 err)"
[ "$(updates)" = 1 ] || fail "apt-get update ran $(updates) times, not once: $(grep fake-apt err)"
grep -q 'fake-apt: installed two 1' err || fail "two not installed: $(grep fake-apt err)"
for n in 2 3; do
	layer_list $n >layer$n.list
	grep -q 'usr/share/fake-pkgs/' layer$n.list || fail "layer $n has no package: $(cat layer$n.list)"
	if grep -E 'var/lib/apt/lists/.+_|\.deb$' layer$n.list; then
		fail "layer $n holds lists or .debs"
	fi
done
reused=$(layer_digest 3)
[ -z "$(ls -A "$WORK" | grep -v '^\.')" ] || fail "left in the work directory: $(ls -A "$WORK")"

# update_cache = true in stage two: it downloads again, and its layer is the same
rm -rf img "$CACHE"
write_img 'apt "two" { update_cache = true }' ''
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply with update_cache failed: $(tail -n 5 err)"
[ "$(updates)" = 2 ] || fail "with update_cache, apt-get update ran $(updates) times, not twice"
[ "$(layer_digest 3)" = "$reused" ] ||
	fail "stage two's layer differs when its lists were put back: $reused vs $(layer_digest 3)"

# update_cache refreshes the copy the next task gets (three is only in the new index); other
# sources (four's repository added) download again
rm -rf img "$CACHE"
write_img 'copy "/srv/repo/Packages" { src = "fake/Packages2" }
    apt "two" { update_cache = true }' '  stage three { apt "three" {} }
  stage four {
    file "/srv/repo4" { state = "directory" }
    copy "/srv/repo4/Packages" { src = "fake/Packages4" }
    file "/etc/apt/sources.list" { content = "deb file:/srv/repo ./\ndeb file:/srv/repo4 ./\n" }
    apt "four" {}
  }'
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply failed: $(tail -n 5 err) $(grep fake-apt err)"
grep -q 'fake-apt: installed two 2' err || fail "update_cache did not update: $(grep fake-apt err)"
grep -q 'fake-apt: installed three 1' err || fail "three not installed: $(grep fake-apt err)"
grep -q 'fake-apt: installed four 1' err || fail "four not installed: $(grep fake-apt err)"
[ "$(updates)" = 3 ] || fail "apt-get update ran $(updates) times, not 3: $(grep fake-apt err)"
say "ok: one apt-get update per sources in an apply"
