#!/bin/sh
# tests/runtime/t6196-apt-cache-valid-time.sh: apt's cache_valid_time (Ansible's). In an image,
# update_cache = true with cache_valid_time puts back the lists an earlier task of the apply
# downloaded for the same sources when they are recent enough (one apt-get update for two
# tasks, the outcome says how old they are), and its layer is the one a download gives;
# cache_valid_time alone implies update_cache; lists older than it are downloaded again;
# a negative value is an error. The stand-in apt-get and repository of t6195.
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

# update_cache in both stages: two downloads; the layer of stage two as a download leaves it
write_img 'apt "two" { update_cache = true }' ''
sed -i 's/apt "one" {}/apt "one" { update_cache = true }/' app.img
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply failed: $(tail -n 5 err)"
[ "$(updates)" = 2 ] || fail "apt-get update ran $(updates) times, not twice"
downloaded=$(layer_digest 3)

# cache_valid_time = 3600 on both: one download, the second task says how old the lists are
rm -rf img "$CACHE"
write_img 'apt "two" { update_cache = true, cache_valid_time = 3600 }' ''
sed -i 's/apt "one" {}/apt "one" { update_cache = true, cache_valid_time = 3600 }/' app.img
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply with cache_valid_time failed: $(tail -n 5 err)"
[ "$(updates)" = 1 ] || fail "apt-get update ran $(updates) times, not once: $(grep fake-apt err)"
grep -q 'fake-apt: installed two 1' err || fail "two not installed: $(grep fake-apt err)"
grep -Eq 'package lists are [0-9]+ s old: not updated' err ||
	{ cp -r . /tmp/aptvalid-dbg; fail "no note"; }
[ "$(layer_digest 3)" = "$downloaded" ] ||
	fail "stage two's layer differs when its lists were recent enough: $downloaded vs $(layer_digest 3)"
layer_list 3 >layer3.list
if grep -E 'var/lib/apt/lists/.+_|\.deb$' layer3.list; then
	fail "layer 3 holds lists or .debs"
fi
[ -z "$(ls -A "$WORK" | grep -v '^\.')" ] || fail "left in the work directory: $(ls -A "$WORK")"

# cache_valid_time alone (no name): it implies update_cache, and says the lists are recent
rm -rf img "$CACHE"
write_img 'apt { cache_valid_time = 3600 }
    apt "two" {}' ''
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply with cache_valid_time alone failed: $(tail -n 5 err)"
[ "$(updates)" = 1 ] || fail "apt-get update ran $(updates) times, not once: $(grep fake-apt err)"
# the note is the ok task's message (the events show it)
rm -rf img "$CACHE"
kapply_json app.img
[ "$rc" -eq 0 ] || fail "apply with cache_valid_time alone failed: $(tail -n 5 err)"
jq -e 'select(.event == "task_end" and .status == "ok") | .msg' out 2>/dev/null |
	grep -Eq 'package lists are [0-9]+ s old: not updated' ||
	fail "no note of the lists' age in the ok task: $(grep task_end out)"

# lists older than cache_valid_time are downloaded again (the first task waits 2 s)
rm -rf img "$CACHE"
write_img 'apt "two" { cache_valid_time = 1 }' ''
sed -i 's/apt "one" {}/apt "one" { update_cache = true }\n    command "sleep 2" {}/' app.img
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply with old lists failed: $(tail -n 5 err)"
[ "$(updates)" = 2 ] || fail "old lists: apt-get update ran $(updates) times, not twice"
if grep -Eq 'package lists are [0-9]+ s old' err; then
	fail "old lists said to be recent: $(cat err)"
fi

# a negative cache_valid_time: a clear error
rm -rf img "$CACHE"
write_img 'apt "two" { cache_valid_time = -5 }' ''
kapply app.img
[ "$rc" -ne 0 ] || fail "a negative cache_valid_time was accepted"
grep -q 'cache_valid_time' err || fail "the error does not name cache_valid_time: $(cat err)"
say "ok: cache_valid_time skips apt-get update while the lists are recent"
