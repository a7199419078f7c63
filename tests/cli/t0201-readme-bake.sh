#!/bin/sh
# ctest-timeout: 1200
# The README's first command, `sh tools/dev.sh bake`, works on a copy of the tree: it builds
# kiln, lints every bundled example (each a build of its own) and bakes examples/hello.img
# into an OCI layout that skopeo reads. Run once, on the plain build (it builds a tree of its
# own; a sanitizer build would only build it again).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-containers.sh"

command -v git >/dev/null 2>&1 || skip "no git"
[ -d "$TOP/.git" ] || skip "not a git checkout"
if ldd $KILN 2>/dev/null | grep -q 'libasan\|libubsan'; then
	skip "the bake check runs on the plain build"
fi

# the tracked files only: no build trees, no outputs of earlier runs
mkdir tree
(cd "$TOP" && git ls-files -z) | (cd "$TOP" && xargs -0 cp --parents -t "$TMP/tree") ||
	fail "cannot copy the tree"
export HOME="$TMP/home" KILN_CACHE_DIR="$TMP/cache" KILN_WORK_DIR="$TMP/work" XDG_CACHE_HOME="$TMP/xdg"
mkdir -p "$HOME"
(cd tree && KILN_SKIP_APT=1 KILN_JOBS=2 sh tools/dev.sh bake) >out 2>err || {
	tail -n 30 out err
	fail "sh tools/dev.sh bake failed"
}
grep -q '^==> baked: examples/out/hello' out || fail "bake did not say what it baked"
[ -f tree/examples/out/hello/index.json ] || fail "no OCI layout at examples/out/hello"
if command -v skopeo >/dev/null 2>&1; then
	skopeo inspect oci:tree/examples/out/hello:hello:latest >inspect 2>&1 ||
		fail "skopeo cannot read the baked layout: $(cat inspect)"
fi
