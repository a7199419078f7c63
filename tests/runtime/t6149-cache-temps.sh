#!/bin/sh
# tests/runtime/t6149-cache-temps.sh: the temporaries a killed kiln leaves in the cache
# (a stage's .KEY.kiln-link.PID, a --cache-from .remote-PID.tar, the registry base's
# NAME.PID.tmp blobs and refs, atomic .NAME.kiln-tmp.XXXXXXXX files of records and blobs)
# are removed once their writer is gone — no process PID, the pid now a process that
# started after the file was written, an atomic temporary nobody holds — when kiln cache
# prune or kiln apply takes the cache's lock. Those of a live writer stay, and so does
# everything else: entries, a kept tree's files whatever their names.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need flock

dead=$(sh -c 'echo $$')
! kill -0 "$dead" 2>/dev/null || skip "pid $dead was taken again at once"
K=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

# $1: a cache directory to fill with leftovers and things to keep
fill()
{
	C=$1
	mkdir -p "$C/stages" "$C/blobs/sha256" "$C/registry/blobs/sha256" "$C/registry/refs" \
		"$C/trees/$K" "$C/tarchunks/paths"
	: >"$C/stages/.$K.kiln-link.$dead"
	: >"$C/stages/.$K.kiln-link.1"
	touch -d 2001-01-01 "$C/stages/.$K.kiln-link.1" # pid 1 started after it was written
	: >"$C/stages/.$K.kiln-link.$$"                 # this shell writes it
	: >"$C/stages/.remote-$dead.tar"
	: >"$C/registry/blobs/sha256/$K.$dead.tmp"
	: >"$C/registry/refs/$K.json.$dead.tmp"
	: >"$C/registry/refs/$K.json.$$.tmp"
	: >"$C/blobs/sha256/.$K.kiln-tmp.abcdef12"
	mkdir "$C/tarchunks/paths/.x.kiln-tmp.abcdef12"
	: >"$C/tarchunks/paths/.x.kiln-tmp.abcdef12/part"
	: >"$C/stages/.$K.json.kiln-tmp.held0000" # held below, as a writer does
	: >"$C/trees/$K/app.$dead.tmp"            # an image's file
	: >"$C/trees/$K/.x.kiln-tmp.abcdef12"
	echo layer >"$C/stages/$K.tar"
	echo keep >"$C/stages/notes.$dead"
}

gone="stages/.$K.kiln-link.$dead stages/.$K.kiln-link.1 stages/.remote-$dead.tar
registry/blobs/sha256/$K.$dead.tmp registry/refs/$K.json.$dead.tmp
blobs/sha256/.$K.kiln-tmp.abcdef12 tarchunks/paths/.x.kiln-tmp.abcdef12"
kept="stages/.$K.kiln-link.$$ registry/refs/$K.json.$$.tmp stages/.$K.json.kiln-tmp.held0000
trees/$K/app.$dead.tmp trees/$K/.x.kiln-tmp.abcdef12 stages/$K.tar stages/notes.$dead"

# $1: what took the lock
check()
{
	for f in $gone; do
		[ ! -e "$C/$f" ] || fail "$1: $f is left"
	done
	for f in $kept; do
		[ -e "$C/$f" ] || fail "$1: $f was removed"
	done
}

# kiln cache prune
fill "$TMP/c1"
exec 9<"$C/stages/.$K.json.kiln-tmp.held0000"
flock -x 9
run_kiln cache prune --cache-dir="$C" --older-than=9999d 9<&-
expect_rc 0
check "kiln cache prune"
exec 9<&-

# kiln apply (its own cache)
fill "$CACHE"
exec 9<"$C/stages/.$K.json.kiln-tmp.held0000"
flock -x 9
mkdir build
cat >build/t.img <<'EOF2'
image t from busybox() {
  stage s {
    file "/etc/t" { content = "t\n" }
  }
}
EOF2
kapply build/t.img 9<&-
expect_rc 0
check "kiln apply"
exec 9<&-
say "ok: the cache's temporaries of dead writers are removed, the rest kept"
