#!/bin/sh
# bench/export/run.sh: how fast kiln writes its artifacts, side by side with the shell tools
# in the same run. Run by hand (figures depend on the machine), as root, after building:
#
#   sh bench/export/run.sh [--tree DIR] [--size MB] [--runs N] [--work DIR]
#
# The tree: DIR if given; else a debootstrap tree from kiln's cache (the newest
# $KILN_CACHE_DIR/debian/*.tar.zst, default /var/cache/kiln); else about --size MB
# (default 200) of files copied from /usr, in sorted order. It is read once to warm the page
# cache, then every writer runs in turn, --runs rounds (default 5); the best time counts:
#
#   tar|zstd    tar -cf - DIR | zstd -T2 -3 >x.tar.zst     (the reference)
#   tar|gzip    tar -cf - DIR | gzip -6 >x.tar.gz
#   tar|pigz    tar -cf - DIR | pigz -6 >x.tar.gz (a thread per CPU; when pigz is installed)
#   tar.zst     kiln's tar output, zstd level 3, a worker thread per CPU
#   tar.gz      kiln's tar output, gzip level 6 (libdeflate) in a thread per CPU
#   layer       kiln's layer_write of the whole tree (uncompressed tar and its sha256)
#   oci         layer + kiln's OCI layout (the layer gzip-compressed, level 1: the default)
#   oci.gz6     the same with compression_level = 6 (smaller layers, slower)
#   oci.zst     layer + kiln's OCI layout with compression = "zstd"
#   docker      layer + kiln's docker-archive
#
# For each: seconds, MB/s of the uncompressed tar, the speed relative to tar|zstd, the
# output's size relative to the tar, peak RSS and CPU time (user + system; GNU time -v).
# On a machine busy with other work, compare the CPU times too: wall times then depend on
# how many threads each writer runs against the others. Then kiln's tar.zst and
# oci run on half of the tree, to show that peak RSS does not grow with the tree.
# Targets: tar.zst and oci.zst at least 80% of the speed of tar|zstd, oci at least 50%.
#
# Uses output_test (tests/runtime/output_test.c) from $KILN_BUILD_DIR (default build/);
# set OUTPUT_TEST to another binary. Needs GNU time, tar, zstd, gzip, jq.
set -eu
LC_ALL=C
export LC_ALL

TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT_TEST=${OUTPUT_TEST:-${KILN_BUILD_DIR:-$TOP/build}/tests/runtime/output_test}
tree='' size=200 runs=5 work=''

usage()
{
	sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--tree) tree=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "run.sh: unknown option $1" >&2; usage 2 >&2 ;;
	esac
done
for c in /usr/bin/time tar zstd gzip jq; do
	command -v $c >/dev/null 2>&1 || { echo "run.sh: needs $c" >&2; exit 2; }
done
[ -x "$OUTPUT_TEST" ] || { echo "run.sh: no $OUTPUT_TEST (build it, or set OUTPUT_TEST)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || echo "run.sh: not root: owners are not kept" >&2

if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-export.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	trap 'exit 130' INT TERM
fi
mkdir -p "$work/out" "$work/layers"

# ---- the tree ---------------------------------------------------------------------------
cache=${KILN_CACHE_DIR:-/var/cache/kiln}
if [ -n "$tree" ]; then
	what="the tree $tree"
elif cached=$(ls -t "$cache"/debian/*.tar.zst 2>/dev/null | head -n 1) && [ -n "$cached" ]; then
	tree=$work/tree
	mkdir "$tree"
	tar --numeric-owner -xpf "$cached" -C "$tree"
	what="debootstrap tree from $cached"
else
	tree=$work/tree
	mkdir "$tree"
	# every k-th file of /usr/lib and /usr/share (under 2 MB, as most files of a root
	# filesystem), k chosen for about $size MB: libraries, scripts, docs, locales, icons
	find /usr/lib /usr/share -xdev -type f -size -2M -printf '%s %p\n' 2>/dev/null | sort -k2 \
		>"$work/all"
	k=$(awk -v want=$((size * 1000000)) '{ t += $1 } END { k = int(t / want); print k < 1 ? 1 : k }' \
		"$work/all")
	awk -v k="$k" 'NR % k == 0 { print substr($0, index($0, " ") + 1) }' "$work/all" >"$work/files"
	tar -cf - -T "$work/files" 2>/dev/null | tar -xpf - -C "$tree"
	what="about $size MB of files from /usr (every ${k}th file under 2 MB)"
fi
# half of the tree (every other file), for the RSS comparison
small=$work/small
mkdir "$small"
(cd "$tree" && find . -type f | sort | awk 'NR % 2 == 0') >"$work/small.files"
(cd "$tree" && tar -cf - -T "$work/small.files") | tar -xpf - -C "$small"

tar -cf - -C "$tree" . | wc -c >"$work/tar.bytes"
tar_bytes=$(cat "$work/tar.bytes")
small_bytes=$(tar -cf - -C "$small" . | wc -c)
entries=$(find "$tree" | wc -l)

# ---- runs -------------------------------------------------------------------------------
# measure NAME COMMAND...: run COMMAND once; append "NAME SECONDS RSS_KB CPU_SECONDS".
measure()
{
	name=$1
	shift
	/usr/bin/time -v -o "$work/time.txt" "$@" >"$work/stdout" 2>"$work/stderr" || {
		echo "run.sh: $name failed:" >&2
		cat "$work/stderr" >&2
		exit 1
	}
	s=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt" |
		awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
	r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
	c=$(awk -F': ' '/User time|System time/ { t += $2 } END { print t }' "$work/time.txt")
	echo "$name $s $r $c" >>"$work/all-runs"
}

job()
{
	# job FILE ROOT LAYERS OUTPUT-JSON
	mkdir -p "$work/layers/$(basename "$1" .json)"
	cat >"$1" <<EOF
{"rootfs": "$2", "work": "$work/layers/$(basename "$1" .json)", "local_root": "$work", "layers": $3,
 "image": {"name": "bench", "config": {"cmd": ["/bin/sh"]}}, "outputs": [$4]}
EOF
}

job "$work/zst.json" "$tree" false '{"type": "tar", "path": "out/k.tar.zst", "args": {}}'
job "$work/gz.json" "$tree" false '{"type": "tar", "path": "out/k.tar.gz", "args": {}}'
job "$work/layer.json" "$tree" true ''
job "$work/oci.json" "$tree" true '{"type": "oci", "path": "out/oci", "args": {}}'
job "$work/oci-gz6.json" "$tree" true '{"type": "oci", "path": "out/oci-gz6", "args": {"compression_level": 6}}'
job "$work/oci-zst.json" "$tree" true '{"type": "oci", "path": "out/oci-zst", "args": {"compression": "zstd"}}'
job "$work/docker.json" "$tree" true '{"type": "docker-archive", "path": "out/d.tar", "args": {}}'
job "$work/zst-small.json" "$small" false '{"type": "tar", "path": "out/s.tar.zst", "args": {}}'
job "$work/oci-small.json" "$small" true '{"type": "oci", "path": "out/s-oci", "args": {}}'

tar -cf - -C "$tree" . >/dev/null # warm the page cache
: >"$work/all-runs"
# rounds of every writer in turn, so that a busy moment of the machine hits them alike
round=0
while [ $round -lt "$runs" ]; do
	measure 'tar|zstd' sh -c "tar -cf - -C '$tree' . | zstd -q -T2 -3 >'$work/out/ref.tar.zst'"
	measure 'tar.zst' "$OUTPUT_TEST" "$work/zst.json"
	measure 'tar|gzip' sh -c "tar -cf - -C '$tree' . | gzip -6 >'$work/out/ref.tar.gz'"
	if command -v pigz >/dev/null 2>&1; then
		measure 'tar|pigz' sh -c "tar -cf - -C '$tree' . | pigz -6 >'$work/out/ref-pigz.tar.gz'"
	fi
	measure 'tar.gz' "$OUTPUT_TEST" "$work/gz.json"
	measure 'layer' "$OUTPUT_TEST" "$work/layer.json"
	measure 'oci' "$OUTPUT_TEST" "$work/oci.json"
	measure 'oci.gz6' "$OUTPUT_TEST" "$work/oci-gz6.json"
	measure 'oci.zst' "$OUTPUT_TEST" "$work/oci-zst.json"
	measure 'docker' "$OUTPUT_TEST" "$work/docker.json"
	measure 'tar.zst/2' "$OUTPUT_TEST" "$work/zst-small.json"
	measure 'oci/2' "$OUTPUT_TEST" "$work/oci-small.json"
	round=$((round + 1))
done
# per writer, in first-seen order: the best time, the highest peak RSS, the least CPU time
awk '!($1 in best) { order[++n] = $1; best[$1] = $2; rss[$1] = $3; cpu[$1] = $4; next }
	{ if ($2 < best[$1]) best[$1] = $2; if ($3 > rss[$1]) rss[$1] = $3; if ($4 < cpu[$1]) cpu[$1] = $4 }
	END { for (i = 1; i <= n; i++) print order[i], best[order[i]], rss[order[i]], cpu[order[i]] }' \
	"$work/all-runs" >"$work/results"

out_size()
{
	case $1 in
	'tar|zstd') stat -c %s "$work/out/ref.tar.zst" ;;
	'tar|gzip') stat -c %s "$work/out/ref.tar.gz" ;;
	'tar|pigz') stat -c %s "$work/out/ref-pigz.tar.gz" ;;
	tar.zst) stat -c %s "$work/out/k.tar.zst" ;;
	tar.gz) stat -c %s "$work/out/k.tar.gz" ;;
	layer) stat -c %s "$work/layers/layer/layer-0.tar" ;;
	oci) du -sb "$work/out/oci" | cut -f1 ;;
	oci.gz6) du -sb "$work/out/oci-gz6" | cut -f1 ;;
	oci.zst) du -sb "$work/out/oci-zst" | cut -f1 ;;
	docker) stat -c %s "$work/out/d.tar" ;;
	tar.zst/2) stat -c %s "$work/out/s.tar.zst" ;;
	oci/2) du -sb "$work/out/s-oci" | cut -f1 ;;
	esac
}

ref=$(awk '$1 == "tar|zstd" { print $2 }' "$work/results")
printf 'kiln export benchmark: %s\n' "$what"
printf '%s entries, tar %.1f MB (the half: %.1f MB); %s run(s) each, best time; %s CPUs\n\n' \
	"$entries" "$(echo "$tar_bytes" | awk '{ print $1 / 1e6 }')" \
	"$(echo "$small_bytes" | awk '{ print $1 / 1e6 }')" "$runs" "$(nproc)"
printf '%-10s %8s %9s %8s %8s %10s %8s\n' writer seconds 'MB/s' 'vs ref' 'size' 'peak RSS' 'CPU s'
while read -r name secs rss cpu; do
	bytes=$tar_bytes
	case $name in */2) bytes=$small_bytes ;; esac
	awk -v n="$name" -v s="$secs" -v b="$bytes" -v r="$ref" -v o="$(out_size "$name")" -v m="$rss" \
		-v tb="$tar_bytes" -v c="$cpu" 'BEGIN {
		speed = b / 1e6 / (s > 0 ? s : 0.001)
		refspeed = tb / 1e6 / (r > 0 ? r : 0.001)
		printf "%-10s %8.2f %9.1f %7.0f%% %7.1f%% %7.1f MB %8.2f\n", n, s, speed,
			100 * speed / refspeed, 100 * o / b, m / 1024, c
	}'
done <"$work/results"
awk -v r="$ref" 'BEGIN { print "" }
	$1 == "tar|pigz" || $1 == "oci.gz6" {
		printf "%s: %.0f%% of the speed of tar|zstd\n", $1, 100 * r / $2 }
	$1 == "tar.zst" || $1 == "oci.zst" || $1 == "oci" {
		printf "%s: %.0f%% of the speed of tar|zstd (target: at least %d%%)\n", $1, 100 * r / $2,
			$1 == "oci" ? 50 : 80 }' "$work/results"
awk '$1 == "tar.zst" { a = $3 } $1 == "tar.zst/2" { b = $3 } $1 == "oci" { c = $3 } $1 == "oci/2" { d = $3 }
	END { printf "peak RSS, whole tree vs half of it: tar.zst %.1f vs %.1f MB, oci %.1f vs %.1f MB\n",
		a / 1024, b / 1024, c / 1024, d / 1024 }' "$work/results"
