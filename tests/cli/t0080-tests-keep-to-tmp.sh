#!/bin/sh
# tests/cli/t0080-tests-keep-to-tmp.sh: the tests write only under their own $TMP.
#   - test-lib.sh points kiln's cache and work directories (KILN_CACHE_DIR, KILN_WORK_DIR)
#     under $TMP, so a kiln run without --cache-dir/--work-dir never uses /var/cache/kiln
#     or /var/tmp/kiln;
#   - every test that runs skopeo, umoci, buildah or podman sources lib-containers.sh
#     (directly or through lib-apply.sh), whose wrappers keep the tools' state under $TMP;
#   - every test that runs neovim sets HOME under $TMP (neovim writes a log and a cache);
#   - as root with skopeo: a `skopeo copy` through lib-containers.sh leaves nothing in
#     /var/lib/containers or /run/containers (each a tmpfs of this test's own here, in a
#     mount namespace of its own, so the machine's are never looked at nor written).
. "$(dirname "$0")/../lib/test-lib.sh"

for v in KILN_CACHE_DIR KILN_WORK_DIR; do
	eval "d=\${$v:-}"
	case $d in
	"$TMP"/*) ;;
	*) fail "test-lib.sh leaves $v at '$d', not under \$TMP ($TMP)" ;;
	esac
done

# the container tools as commands: a line not a comment that names one
bad=
for f in $(cd "$TOP" && find tests -name '*.sh' ! -name lib-containers.sh ! -name "$TEST_NAME.sh" | sort); do
	sed 's/#.*//' "$TOP/$f" | grep -Eq '(^|[^a-z_/.-])(skopeo|umoci|buildah|podman)([^a-z_.-]|$)' ||
		continue
	grep -Eq '^\. "\$TOP/tests/runtime/lib-(containers|apply)\.sh"' "$TOP/$f" || bad="$bad $f"
done
[ -z "$bad" ] || fail "these tests run container tools without lib-containers.sh:$bad"

# neovim writes its log, state and cache under HOME and XDG_*: a test that runs it sets
# HOME to a directory of its own
bad=
for f in $(cd "$TOP" && find tests -name '*.sh' ! -name "$TEST_NAME.sh" | sort); do
	grep -q 'nvim --headless' "$TOP/$f" || continue
	grep -Eq '(^|[[:space:]])HOME="?\$TMP' "$TOP/$f" || bad="$bad $f"
done
[ -z "$bad" ] || fail "these tests run neovim with the machine's HOME:$bad"

[ "$(id -u)" -eq 0 ] || { say "ok (not root: the skopeo part is skipped)"; exit 0; }
command -v skopeo >/dev/null 2>&1 || { say "ok (no skopeo: its part is skipped)"; exit 0; }
command -v unshare >/dev/null 2>&1 || skip "needs unshare"
unshare -m true 2>/dev/null || skip "needs mount namespaces"

# a small OCI layout, made by hand: one empty layer
mkdir -p empty lay/blobs/sha256
tar -C empty -cf layer.tar .
gzip -n <layer.tar >layer.tgz
blob()
{
	_d=$(sha256sum "$1" | cut -d' ' -f1)
	cp "$1" "lay/blobs/sha256/$_d"
	echo "$_d $(wc -c <"$1")"
}
diff_id=$(sha256sum layer.tar | cut -d' ' -f1)
set -- $(blob layer.tgz)
layer="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$1\",\"size\":$2}"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
	"$diff_id" >config.json
set -- $(blob config.json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
	"$1" "$2" "$layer" >manifest.json
set -- $(blob manifest.json)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"t"}}]}' \
	"$1" "$2" >lay/index.json
echo '{"imageLayoutVersion":"1.0.0"}' >lay/oci-layout

# the machine's state directories replaced by empty ones of this test's, to look into after
rc=0
TMP=$TMP TOP=$TOP unshare -m --propagation private sh -c '
	for d in /var/lib/containers /run/containers; do
		[ -d "$d" ] || d=${d%/*}
		mount -t tmpfs -o mode=0700 kiln-t0080 "$d" || exit 3
	done
	skip() { echo "skip: $*" >&2; exit 4; }
	. "$TOP/tests/runtime/lib-containers.sh"
	skopeo copy -q oci:lay:t oci:copy:t >skopeo.out 2>&1 || exit 5
	find /var/lib/containers /run/containers -mindepth 1 >written
' >out 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "the skopeo run failed (status $rc): $(cat err skopeo.out 2>/dev/null)"
[ -f copy/index.json ] || fail "skopeo copied nothing"
[ ! -s written ] || fail "skopeo through lib-containers.sh wrote outside \$TMP: $(head -n 5 written)"
say "ok"
