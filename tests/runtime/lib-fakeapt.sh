# tests/runtime/lib-fakeapt.sh: a busybox image with a stand-in apt-get, dpkg-query and a
# repository in the tree (apt proper needs a debootstrapped tree: t1109), write_img, layer_list
# and layer_digest. Sourced after tests/lib/test-lib.sh and lib-apply.sh (t6195, t6196).

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
