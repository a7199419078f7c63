#!/bin/sh
# tools/dev.sh: set up a Debian 12 machine for kiln, build it, then run it or its tests.
#
#   sh tools/dev.sh bake    install build deps, build build/, run kiln on examples/
#   sh tools/dev.sh test    install build deps, then the whole suite:
#                             a) build/       ctest (-DKILN_WERROR=ON)
#                             b) build-asan/  ctest under address,undefined sanitizers
#                             c) build-fuzz/  fuzz_parse for KILN_FUZZ_SECONDS (default 45)
#                             d) clang-format --dry-run -Werror on kiln's own .c/.h files
#                           and ends with one line "N passed, N failed".
#
# Run from anywhere inside the repository, as root on a fresh Debian 12 (or as a user
# who already has the packages below). Environment:
#   KILN_FUZZ_SECONDS  fuzzing time in seconds (default 45, 0 skips the run)
#   KILN_JOBS          parallel build and test jobs (default: number of cores)
#   KILN_SKIP_APT=1    never call apt-get
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

jobs=${KILN_JOBS:-$(nproc 2>/dev/null || echo 2)}

# Everything needed to build kiln, run its tests and check its format.
# The runtime's bases and the tests' real clients (skopeo, umoci) are here too.
# ansible: the inventory tests compare kiln inventory with ansible-inventory.
deps="cmake make gcc libc6-dev clang libclang-rt-14-dev clang-format flex bison pkg-config
libjansson-dev libssh-dev libarchive-dev libzstd-dev libssl-dev jq mawk diffutils coreutils
findutils git util-linux debootstrap busybox-static skopeo umoci python3 zstd xz-utils bzip2 patch
zlib1g-dev time libcap2-bin curl
ca-certificates ansible"
# The ssh tests (t12xx) start a real sshd of their own and use ssh-keygen and ssh-agent.
deps="$deps openssh-server openssh-client"
# disk outputs: libext2fs writes the root file system, mkfs.fat the EFI system partition,
# qemu-img converts to qcow2; the disk tests check with e2fsck, sfdisk and sgdisk.
deps="$deps libext2fs-dev e2fsprogs dosfstools mtools qemu-utils fdisk gdisk"
# output vagrant: the test adds the box with vagrant itself
deps="$deps vagrant"
# the boot test (t6290) boots a disk under qemu with OVMF and systemd-boot; the package tests
# (t0042, t6292) make a .deb with cpack, whose dependencies dpkg-shlibdeps computes
deps="$deps qemu-system-x86 ovmf systemd-boot-efi dpkg-dev"
# The tests of apply on many hosts (t6110, t122x) read the process table with ps.
deps="$deps procps"
# Registries: libcurl for the client; the registry tests (t7xxx) start Debian's docker-registry
# and make htpasswd files.
deps="$deps libcurl4-openssl-dev"
deps="$deps docker-registry"
deps="$deps apache2-utils"
# t6092 counts a rootfs apply's syncfs and clone calls with strace.
deps="$deps strace"
# t6180 reads kiln's layouts and archives back with podman (a storage of its own, vfs).
deps="$deps podman"
# gzip layers and tarballs: libdeflate (opened on first use: base/lazy_deflate.c)
deps="$deps libdeflate-dev"
# kiln lsp's test drives the server with neovim's own LSP client; the editor tests run
# the vim files in neovim
deps="$deps neovim"

say()
{
	printf '==> %s\n' "$*"
}

die()
{
	printf 'dev.sh: %s\n' "$*" >&2
	exit 1
}

install_deps()
{
	missing=
	for p in $deps; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || s=
		[ "$s" = installed ] || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "${KILN_SKIP_APT:-0}" = 1 ] && die "missing packages:$missing (KILN_SKIP_APT=1)"
	command -v apt-get >/dev/null 2>&1 || die "missing packages:$missing, and no apt-get"
	sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || die "missing packages:$missing; run as root"
		sudo=sudo
	fi
	say "installing:$missing"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends $missing
}

# configure DIR [cmake args...]: configure and build one tree.
build()
{
	dir=$1
	shift
	say "configure $dir"
	cmake -S . -B "$dir" "$@" || return 1
	say "build $dir"
	cmake --build "$dir" -j "$jobs" || return 1
}

# --- bake -------------------------------------------------------------------------------------

bake()
{
	install_deps
	build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_WERROR=ON || die "build failed"
	# kiln's main job: check the bundled examples, then bake one. hello.img (busybox
	# base) takes about a second; web.img debootstraps Debian first (about a minute).
	# Each example is a build of its own (files named together are one build).
	say "kiln lint examples"
	for f in examples/*.img examples/roles/*.img; do
		build/kiln lint "$f" || die "lint failed: $f"
	done
	say "kiln apply examples/hello.img"
	build/kiln apply --progress=plain examples/hello.img || die "apply failed"
	say "baked: examples/out/hello (an OCI image layout; try: skopeo inspect oci:examples/out/hello:latest)"
}

# --- test -------------------------------------------------------------------------------------

passed=0
failed=0
skipped=0
broken=        # steps that failed outside ctest's counts

step_failed()
{
	broken="$broken
  $1"
	failed=$((failed + 1))
}

# devnull_check WHAT: tests must never replace /dev/null (a test of "-o /dev/null" once
# did); say which step did, and restore the device so the steps after it are not misled.
devnull_check()
{
	[ -c /dev/null ] && return 0
	step_failed "$1 replaced /dev/null (restored as a character device)"
	rm -f /dev/null && mknod -m 666 /dev/null c 1 3
}

# run_ctest DIR: run the suite of one build tree and add its counts.
run_ctest()
{
	dir=$1
	log=$dir/dev-ctest.log
	say "ctest $dir"
	rcfile=$dir/dev-ctest.rc
	{
		rc=0
		ctest --test-dir "$dir" --output-on-failure -j "$jobs" || rc=$?
		echo "$rc" >"$rcfile"
	} 2>&1 | tee "$log"
	rc=$(cat "$rcfile")
	# "95% tests passed, 2 tests failed out of 42"
	sum=$(sed -n 's/^[0-9]*% tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\).*/\1 \2/p' "$log" | tail -n 1)
	if [ -z "$sum" ]; then
		step_failed "ctest $dir: no summary (exit $rc)"
		return 0
	fi
	set -- $sum
	nskip=$(grep -c '(Skipped)$' "$log" || true)
	failed=$((failed + $1))
	skipped=$((skipped + nskip))
	passed=$((passed + $2 - $1 - nskip))
	if [ "$2" -eq 0 ]; then
		step_failed "ctest $dir: no tests"
	elif [ "$rc" != 0 ] && [ "$1" -eq 0 ]; then
		step_failed "ctest $dir: exit $rc"
	fi
}

# fuzz: run fuzz_parse for a bounded time over a seed corpus made of the .img files.
fuzz()
{
	secs=${KILN_FUZZ_SECONDS:-45}
	[ "$secs" -gt 0 ] 2>/dev/null || {
		say "fuzz: skipped (KILN_FUZZ_SECONDS=$secs)"
		return 0
	}
	[ -x build-fuzz/fuzz_parse ] || return 1
	corpus=$(mktemp -d "${TMPDIR:-/tmp}/kiln-corpus.XXXXXX")
	n=0
	for f in $(find examples tests/compile -name '*.img' -type f 2>/dev/null | LC_ALL=C sort); do
		n=$((n + 1))
		cp "$f" "$corpus/seed-$n.img"
	done
	dict=
	[ -f tests/fuzz/kiln.dict ] && dict=-dict=tests/fuzz/kiln.dict
	say "fuzz_parse for ${secs}s over $n seeds"
	rc=0
	build-fuzz/fuzz_parse -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix=build-fuzz/ $dict \
		"$corpus" >build-fuzz/fuzz.log 2>&1 || rc=$?
	tail -n 25 build-fuzz/fuzz.log
	rm -rf "$corpus"
	if [ "$rc" != 0 ]; then
		say "fuzz_parse failed (exit $rc); artifacts in build-fuzz/, log in build-fuzz/fuzz.log"
		return 1
	fi
}

# Generated sources (flex, bison) are not ours to format.
is_generated()
{
	head -n 5 "$1" | grep -Eqi 'generated by|a bison parser|lexical scanner generated'
}

format_check()
{
	command -v clang-format >/dev/null 2>&1 || return 1
	if git rev-parse --git-dir >/dev/null 2>&1; then
		files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h')
	else
		files=$(find . -path './build*' -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print)
	fi
	list=
	for f in $files; do
		[ -f "$f" ] || continue
		is_generated "$f" && continue
		list="$list $f"
	done
	if [ -z "$list" ]; then
		say "clang-format: no files"
		return 0
	fi
	say "clang-format --dry-run -Werror ($(echo $list | wc -w) files)"
	# shellcheck disable=SC2086
	clang-format --dry-run -Werror $list
}

test_all()
{
	install_deps
	# Any sanitizer report aborts the process, so the test that ran it fails (status 134).
	export ASAN_OPTIONS="abort_on_error=1:halt_on_error=1:detect_leaks=1:strict_string_checks=1"
	export UBSAN_OPTIONS="abort_on_error=1:halt_on_error=1:print_stacktrace=1"
	ulimit -c 0 2>/dev/null || true

	if [ ! -c /dev/null ]; then
		say "/dev/null was not a character device before the tests: restoring it"
		rm -f /dev/null && mknod -m 666 /dev/null c 1 3
	fi
	if build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_WERROR=ON; then
		run_ctest build
		devnull_check "ctest build"
	else
		step_failed "build build/"
	fi

	if build build-asan -DCMAKE_BUILD_TYPE=Debug -DKILN_WERROR=ON \
		-DKILN_SANITIZE=address,undefined; then
		run_ctest build-asan
		devnull_check "ctest build-asan"
	else
		step_failed "build build-asan/"
	fi

	if build build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DKILN_FUZZ=ON; then
		fuzz || step_failed "fuzz_parse (see build-fuzz/fuzz.log)"
	else
		step_failed "build build-fuzz/"
	fi

	format_check || step_failed "clang-format (run clang-format -i on the files above)"

	if [ -n "$broken" ]; then
		echo "failed steps:$broken"
	fi
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
}

case ${1:-} in
bake) bake ;;
test) test_all ;;
*)
	echo "usage: sh tools/dev.sh bake|test" >&2
	exit 2
	;;
esac
