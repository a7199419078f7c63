#!/bin/sh
# bench/rebuild/run.sh: examples/web.img rebuilt three ways, side by side in one run:
#   (a) first build, (b) no-op rebuild, (c) rebuild after one file of the last stage
#   (examples/app/index.html) changed,
# with kiln apply, with buildah bud --layers (Dockerfile beside this script, chroot
# isolation, a private storage root) and with packer build (packer.json: null builder,
# shell-local provisioners in a chroot; Packer keeps no cache).
#
# Usage (as root, from the top of the tree, after building build/kiln):
#   sh bench/rebuild/run.sh [--no-packer] [--packer-once]
# KILN=/path/to/kiln for another binary; BENCH_DIR (default /var/tmp/kiln-bench-rebuild)
# holds everything and is emptied first. Needs debootstrap and the Debian mirror (kiln's
# first build), buildah, packer, zstd, GNU time. Installs nothing.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
KILN=${KILN:-$TOP/build/kiln}
B=${BENCH_DIR:-/var/tmp/kiln-bench-rebuild}
PACKER=1
PACKER_RUNS=3
for a in "$@"; do
	case $a in
	--no-packer) PACKER=0 ;;
	--packer-once) PACKER_RUNS=1 ;;
	-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (kiln and buildah build root filesystems)" >&2; exit 1; }
for t in buildah zstd debootstrap; do
	command -v $t >/dev/null || { echo "run.sh: needs $t" >&2; exit 1; }
done
[ $PACKER -eq 0 ] || command -v packer >/dev/null || { echo "run.sh: needs packer (or --no-packer)" >&2; exit 1; }

case $B in /*) ;; *) echo "run.sh: BENCH_DIR must be absolute" >&2; exit 1 ;; esac
for m in $(awk -v b="$B" 'index($2, b) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" || true; done
rm -rf --one-file-system "$B"
mkdir -p "$B"
now() { date +%s.%N; }
secs() { echo "$1 $2" | awk '{ printf "%.3f", $2 - $1 }'; }
# run NAME CMD...: time one command (its output in $B/NAME.log), the seconds in $T
run()
{
	_n=$1
	shift
	_t0=$(now)
	"$@" >"$B/$_n.log" 2>&1 || { echo "run.sh: $_n failed: see $B/$_n.log" >&2; tail -20 "$B/$_n.log" >&2; exit 1; }
	T=$(secs "$_t0" "$(now)")
	echo "  $_n: $T s"
}
best() { printf '%s\n' "$@" | sort -g | head -1; }

cp -R "$TOP/examples" "$B/ex"
rm -rf "$B/ex/out"
KA="--progress=plain --cache-dir=$B/kiln-cache --work-dir=$B/kiln-work"

echo "kiln $($KILN version 2>/dev/null | head -1) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "kiln:"
cd "$B/ex"
run kiln-a $KILN apply $KA web.img
KA_S=$T
bs=
for i in 1 2 3 4 5; do
	run kiln-b$i $KILN apply $KA web.img
	bs="$bs $T"
done
KB_S=$(best $bs)
grep -q 'stages: 0 built, 5 cached; outputs: 0 written, 5 up to date' "$B/kiln-b1.log" ||
	{ echo "run.sh: kiln's no-op apply did work" >&2; exit 1; }
echo '<p>changed</p>' >>app/index.html
run kiln-c $KILN apply $KA web.img
KC_S=$T
grep -q 'stages: 1 built, 4 cached' "$B/kiln-c.log" ||
	{ echo "run.sh: kiln's rebuild did not build exactly one stage" >&2; exit 1; }
# where (c) went: the outputs it wrote, and the chunks of the tarball it copied from the cache
grep -E '^ +(wrote|tar .*chunks reused)' "$B/kiln-c.log" | sed -e 's/sha256:[0-9a-f]*//' -e 's/^ */    /'
# the first build with the Debian base already cached (as buildah gets its rootfs.tar)
mkdir -p "$B/kiln-cache2"
cp -a "$B/kiln-cache/debian" "$B/kiln-cache2/"
run kiln-a-warm $KILN apply --progress=plain --cache-dir="$B/kiln-cache2" --work-dir="$B/kiln-work" web.img
KAW_S=$T
# where (a') went: the base, each output, each image's time (its recap)
grep -E '^ +(base ready|wrote)|^[a-z_]+ +: ok=' "$B/kiln-a-warm.log" |
	sed -e 's/sha256:[0-9a-f]*//' -e 's/ok=.* \([0-9.]*s\)$/\1/' -e 's/^ */    /'
cd "$B"

# the build context of the Dockerfile and packer.json: the same debootstrap tree
CTX=$B/ctx
mkdir -p "$CTX"
zstd -q -d -c "$(ls "$B"/kiln-cache/debian/*.tar.zst | head -1)" >"$CTX/rootfs.tar"
render() { grep -v '^{#' "$1" | sed -e 's/{{ *http_port *}}/8080/g' -e 's#{{ *app_root *}}#/srv/app#g'; }
render "$TOP/examples/templates/httpd.conf.tmpl" >"$CTX/ports.conf"
render "$TOP/examples/templates/site.conf.tmpl" >"$CTX/000-default.conf"
cp -R "$TOP/examples/app" "$CTX/app"
cp "$TOP/bench/rebuild/Dockerfile" "$CTX/Dockerfile"

echo "buildah bud --layers --isolation chroot:"
BA="--root $B/buildah/root --runroot $B/buildah/run"
run buildah-a buildah $BA bud --layers --isolation chroot -t bench-web "$CTX"
BA_S=$T
bs=
for i in 1 2 3; do
	run buildah-b$i buildah $BA bud --layers --isolation chroot -t bench-web "$CTX"
	bs="$bs $T"
done
BB_S=$(best $bs)
echo '<p>changed</p>' >>"$CTX/app/index.html"
run buildah-c buildah $BA bud --layers --isolation chroot -t bench-web "$CTX"
BC_S=$T
buildah $BA rmi --all >/dev/null 2>&1 || true

PA_S=- PB_S=- PC_S=-
if [ $PACKER -eq 1 ]; then
	echo "packer build (null builder, shell-local in a chroot):"
	mkdir -p "$B/packer"
	run packer-a packer build -var ctx="$CTX" -var out="$B/packer" "$TOP/bench/rebuild/packer.json"
	PA_S=$T
	if [ $PACKER_RUNS -gt 1 ]; then
		run packer-b packer build -var ctx="$CTX" -var out="$B/packer" "$TOP/bench/rebuild/packer.json"
		PB_S=$T
		echo '<p>changed again</p>' >>"$CTX/app/index.html"
		run packer-c packer build -var ctx="$CTX" -var out="$B/packer" "$TOP/bench/rebuild/packer.json"
		PC_S=$T
	fi
fi

ratio() { echo "$1 $2" | awk '{ if ($2 == "-" || $1 == 0) print "-"; else printf "%.1fx", $2 / $1 }'; }
echo
printf '%-34s %10s %10s %10s   %s\n' "" kiln buildah packer "kiln vs buildah"
printf '%-34s %10s %10s %10s   %s\n' "(a) first build" "$KA_S" "$BA_S" "$PA_S" "$(ratio "$KA_S" "$BA_S")"
printf '%-34s %10s %10s %10s   %s\n' "(a') first, Debian base cached" "$KAW_S" "$BA_S" "$PA_S" "$(ratio "$KAW_S" "$BA_S")"
printf '%-34s %10s %10s %10s   %s\n' "(b) no-op rebuild (best)" "$KB_S" "$BB_S" "$PB_S" "$(ratio "$KB_S" "$BB_S")"
printf '%-34s %10s %10s %10s   %s\n' "(c) one file of the last stage" "$KC_S" "$BC_S" "$PC_S" "$(ratio "$KC_S" "$BC_S")"
echo "targets: (b) <= 0.1 s and >= 40x faster than buildah; (c) >= 5x faster; (a) no slower"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); logs in $B"
