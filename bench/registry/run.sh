#!/bin/sh
# bench/registry/run.sh: kiln's registry client against skopeo, side by side in one run, on
# a local registry (Debian's docker-registry on 127.0.0.1, plain HTTP, its storage in the
# work directory). Run by hand, as root, after building build/kiln:
#
#   sh bench/registry/run.sh [--mb N] [--runs N] [--work DIR]
#
# The image: busybox() and a stage writing N MB (default 100) of data, half random, half
# text, baked once into an OCI layout (SOURCE_DATE_EPOCH set: every bake gives the same
# blobs). Then, --runs rounds (default 3), the best time counting:
#
#   push 1    kiln: the registry output into an empty repository (the artifact event's
#             time: the layout is the oci output's, so this is the push alone)
#             skopeo copy oci:LAYOUT docker://REG/bench/skopeo:1 into an empty repository
#   push 2    the same again: every blob is there (kiln's target: at most 0.1 s)
#   pull      kiln: the registry() base from an empty cache, until the base is ready (the
#             layers fetched, verified and extracted; the "base ready" note)
#             skopeo copy docker://REG/... oci:DIR (fetched and verified, not extracted)
#   rebuild   kiln apply of the image from an empty cache directory: cold (every stage
#             runs; the stage also sleeps --work S seconds, default 3, standing in for a
#             compile step) against --cache-from the repository a first apply filled
#             with --cache-to (no task runs; the stage's layer is fetched)
#
# Each round uses new repositories (and registry storage for push 1). Needs
# docker-registry, skopeo, jq, python3. The work directory (default: a new one under
# $TMPDIR, removed at the end) holds the registry's storage and kiln's caches.
set -eu
LC_ALL=C
export LC_ALL

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KILN=${KILN:-$TOP/build/kiln}
mb=100 runs=3 work='' worksec=3
while [ $# -gt 0 ]; do
	case $1 in
	--mb) mb=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--work-seconds) worksec=$2; shift 2 ;;
	-h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
for c in docker-registry skopeo jq python3; do
	command -v $c >/dev/null 2>&1 || { echo "run.sh: needs $c" >&2; exit 2; }
done
[ -x "$KILN" ] || { echo "run.sh: no $KILN (build it, or set KILN)" >&2; exit 2; }
made=
[ -n "$work" ] || { work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-registry.XXXXXX"); made=1; }
mkdir -p "$work"
cd "$work"
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH
unset KILN_CACHE_DIR KILN_WORK_DIR || true

port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
REG=127.0.0.1:$port
regpid=
start_registry()
{
	rm -rf "$work/storage"
	mkdir -p "$work/storage"
	cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $REG
YML
	docker-registry serve "$work/registry.yml" >>"$work/registry.log" 2>&1 &
	regpid=$!
	i=0
	until python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5)' "$port" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "run.sh: the registry does not start" >&2; exit 1; }
		sleep 0.1
	done
}
stop_registry()
{
	[ -z "$regpid" ] || { kill "$regpid" 2>/dev/null || true; wait "$regpid" 2>/dev/null || true; }
	regpid=
}
trap 'stop_registry; cd /; [ -z "$made" ] || rm -rf "$work"' EXIT

half=$((mb * 1048576 / 2))
cat >img.img <<IMG
param registry: string = "127.0.0.1:5000"
param repo: string = "bench/kiln"
image bench from busybox() {
  stage data {
    shell "head -c ${half} /dev/urandom >/random.bin && yes 'kiln registry bench line' | head -c ${half} >/text.txt" {
      creates = "/random.bin"
    }
  }
  output oci "layout" { tag = "bench:1" }
  output registry "\${registry}/\${repo}" { tags = ["1"], insecure = true }
}
IMG
cat >rebuild.img <<IMG
image rebuild from busybox() {
  stage data {
    shell "sleep $worksec && head -c ${half} /dev/urandom >/random.bin && yes 'kiln registry bench line' | head -c ${half} >/text.txt" {
      creates = "/random.bin"
    }
  }
  output oci "rebuilt" { tag = "rebuild:1" }
}
IMG
cat >pull.img <<IMG
param ref: string = "x"
image pulled from registry(ref, insecure = true) {
  stage s { file "/pulled" { content = "1\n" } }
}
IMG

now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{ printf "%.3f\n", $1 - $2 }'; }
kiln_push_ms()
{
	"$KILN" apply --work-dir="$work/w" --cache-dir="$work/cache" --events=json \
		-var registry=$REG -var repo="$1" img.img >events.json 2>apply.err ||
		{ cat apply.err >&2; jq -c "select(.event == \"error\" or .status == \"failed\")" events.json >&2; exit 1; }
	jq -r 'select(.event == "artifact" and .type == "registry") | .ms' events.json
}
best() { sort -g | head -n1; }

start_registry
echo "baking the image (${mb} MB of data) and a first push..." >&2
kiln_push_ms bench/warm >/dev/null
size=$(du -sk layout/blobs | cut -f1)

: >k1 ; : >k2 ; : >s1 ; : >s2 ; : >kp ; : >sp ; : >rc ; : >rf
r=1
while [ $r -le "$runs" ]; do
	stop_registry
	start_registry
	ms=$(kiln_push_ms "bench/kiln$r")
	echo "$ms" | awk '{ printf "%.3f\n", $1 / 1000 }' >>k1
	ms=$(kiln_push_ms "bench/kiln$r")
	echo "$ms" | awk '{ printf "%.3f\n", $1 / 1000 }' >>k2
	t=$(now)
	skopeo copy -q --dest-tls-verify=false oci:layout:bench:1 "docker://$REG/bench/skopeo$r:1"
	since "$t" >>s1
	t=$(now)
	skopeo copy -q --dest-tls-verify=false oci:layout:bench:1 "docker://$REG/bench/skopeo$r:1"
	since "$t" >>s2
	rm -rf pcache
	"$KILN" apply --work-dir="$work/w" --cache-dir="$work/pcache" --events=json \
		-var ref="$REG/bench/kiln$r:1" pull.img >pull.json 2>pull.err ||
		{ cat pull.err >&2; exit 1; }
	jq -r 'select(.event == "note") | .msg' pull.json | sed -n 's/^base ready (\([0-9.]*\) s)$/\1/p' >>kp
	rm -rf pulled
	t=$(now)
	skopeo copy -q --src-tls-verify=false "docker://$REG/bench/kiln$r:1" oci:pulled:1
	since "$t" >>sp
	rm -rf c0 c1 c2
	"$KILN" apply --work-dir="$work/w" --cache-dir="$work/c0" --cache-to="$REG/bench/cache$r" \
		--cache-insecure --progress=plain rebuild.img >/dev/null 2>rebuild.err ||
		{ cat rebuild.err >&2; exit 1; }
	t=$(now)
	"$KILN" apply --work-dir="$work/w" --cache-dir="$work/c1" --progress=plain rebuild.img \
		>/dev/null 2>rebuild.err || { cat rebuild.err >&2; exit 1; }
	since "$t" >>rc
	t=$(now)
	"$KILN" apply --work-dir="$work/w" --cache-dir="$work/c2" --cache-from="$REG/bench/cache$r" \
		--cache-insecure --progress=plain rebuild.img >/dev/null 2>rebuild.err ||
		{ cat rebuild.err >&2; exit 1; }
	since "$t" >>rf
	grep -q "fetched from the shared cache" rebuild.err ||
		{ echo "run.sh: the rebuild fetched nothing from the shared cache" >&2; exit 1; }
	r=$((r + 1))
done

printf '\nregistry bench: %s MB of data, %s KB of blobs, best of %s, %s\n' "$mb" "$size" "$runs" "$REG"
printf '%-8s %10s %10s %8s\n' step kiln skopeo ratio
for step in "push 1:k1:s1" "push 2:k2:s2" "pull:kp:sp"; do
	name=${step%%:*}
	rest=${step#*:}
	k=$(best <"${rest%%:*}")
	s=$(best <"${rest#*:}")
	printf '%-8s %9ss %9ss %8s\n' "$name" "$k" "$s" "$(echo "$s $k" | awk '{ if ($2 > 0) printf "%.1fx", $1 / $2; else print "-" }')"
done
printf 'rebuild  cold %ss, --cache-from %ss (the stage sleeps %s s)\n' "$(best <rc)" "$(best <rf)" "$worksec"
k2=$(best <k2)
echo "$k2" | awk '{ exit !($1 <= 0.1) }' && echo "target: second push <= 0.1 s: met ($k2 s)" ||
	echo "target: second push <= 0.1 s: NOT met ($k2 s)"
