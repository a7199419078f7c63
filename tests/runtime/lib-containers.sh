# tests/runtime/lib-containers.sh: the container tools (skopeo, umoci, buildah, podman) kept
# to this test's $TMP. Sourced after tests/lib/test-lib.sh (lib-apply.sh sources it).
#
# skopeo, buildah and podman write /var/lib/containers/cache/blob-info-cache-v1.boltdb
# whatever --root says, and may use /run/containers, $HOME/.local/share/containers,
# $HOME/.config/containers and $XDG_RUNTIME_DIR. Each tool that is installed is replaced by
# a shell function of the same name that runs it in a mount namespace of its own, with a
# fresh tmpfs over /var/lib/containers and /run/containers, and HOME, XDG_* and TMPDIR
# under $TMP/containers. A tool that is missing gets no function, so `need skopeo` and
# `command -v buildah` still tell. Not root, the tools keep to HOME and XDG_* and no
# namespace is needed (nor possible).
#
#   in_own_containers CMD ARGS...   run CMD so; stdin, stdout, stderr and status are CMD's

[ "$(id -u)" -ne 0 ] || command -v unshare >/dev/null 2>&1 || skip "needs unshare (util-linux)"

in_own_containers()
{
	_ct=$TMP/containers
	mkdir -p "$_ct/home" "$_ct/config" "$_ct/data" "$_ct/cache" "$_ct/run" "$_ct/tmp"
	chmod 0700 "$_ct/run"
	if [ "$(id -u)" -ne 0 ]; then
		HOME=$_ct/home XDG_CONFIG_HOME=$_ct/config XDG_DATA_HOME=$_ct/data \
			XDG_CACHE_HOME=$_ct/cache XDG_RUNTIME_DIR=$_ct/run TMPDIR=$_ct/tmp "$@"
		return
	fi
	HOME=$_ct/home XDG_CONFIG_HOME=$_ct/config XDG_DATA_HOME=$_ct/data \
		XDG_CACHE_HOME=$_ct/cache XDG_RUNTIME_DIR=$_ct/run TMPDIR=$_ct/tmp \
		unshare -m --propagation private sh -c '
		for d in /var/lib/containers /run/containers; do
			# a directory that is missing is not made: its parent is hidden instead
			[ -d "$d" ] || d=${d%/*}
			mount -t tmpfs -o mode=0700 kiln-test-containers "$d" || {
				echo "lib-containers.sh: cannot mount a tmpfs over $d" >&2
				exit 125
			}
		done
		exec "$@"' sh "$@"
}

for _tool in skopeo umoci buildah podman; do
	command -v "$_tool" >/dev/null 2>&1 || continue
	eval "$_tool() { in_own_containers $_tool \"\$@\"; }"
done
unset _tool
