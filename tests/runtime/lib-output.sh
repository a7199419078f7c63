# tests/runtime/lib-output.sh: helpers for the output tests t30NN-*.sh, sourced after
# tests/lib/test-lib.sh. They call layer_snapshot/layer_write/output_write through
# output_test (built beside the tests; its header comment describes the job file).
#
#   make_tree DIR [reverse]  a small root filesystem: Debian's static busybox, symlinks
#                            (relative, absolute, dangling), a hard link, modes (setuid,
#                            sticky, 0600), owners, a fifo, an empty file and directory, long
#                            and non-ASCII names; "reverse" creates them in another order
#   run_job JOB              output_test JOB; status in $rc, stdout in ./out, stderr in ./err;
#                            a crash, a hang or a sanitizer report fails the test
#   run_job_ok JOB           the same, and it must succeed
#   tree_list DIR            one line per entry: path, type, mode, owner, size, links, target
#   same_tree A B            A and B hold the same entries and contents (fifos by type), or
#                            the test fails
#   jq_out FILTER            jq FILTER on the last run's output

need jq
OUTPUT_TEST=${OUTPUT_TEST:-${KILN_BUILD_DIR:-$TOP/build}/tests/runtime/output_test}
[ -x "$OUTPUT_TEST" ] || fail "output_test not found: $OUTPUT_TEST (build it, or set OUTPUT_TEST)"
[ -x /bin/busybox ] || skip "needs Debian's busybox-static (/bin/busybox)"
[ "$(id -u)" -eq 0 ] || skip "needs root (owners and modes of a root filesystem)"

make_tree()
{
	_d=$1
	mkdir -p "$_d"
	if [ "${2:-}" = reverse ]; then
		_order='files links dirs'
	else
		_order='dirs files links'
	fi
	for _step in $_order; do
		case $_step in
		dirs)
			mkdir -p "$_d/bin" "$_d/etc/app" "$_d/tmp" "$_d/var/empty" "$_d/usr/share/doc" \
				"$_d/home/user" "$_d/srv/a-very-long-directory-name-that-goes-on-and-on/and-on-and-on/and-on-and-on-and-on"
			chmod 1777 "$_d/tmp"
			chmod 0700 "$_d/home/user"
			chown 1000:1000 "$_d/home/user"
			;;
		files)
			mkdir -p "$_d/bin" "$_d/etc/app" "$_d/usr/share/doc" "$_d/home/user" \
				"$_d/srv/a-very-long-directory-name-that-goes-on-and-on/and-on-and-on/and-on-and-on-and-on"
			cp /bin/busybox "$_d/bin/busybox"
			chmod 4755 "$_d/bin/busybox"
			printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' \
				>"$_d/etc/passwd"
			printf 'secret\n' >"$_d/etc/app/secret.conf"
			chmod 0600 "$_d/etc/app/secret.conf"
			chown 1000:1000 "$_d/etc/app/secret.conf"
			: >"$_d/etc/app/empty"
			printf 'remove me in stage 2\n' >"$_d/usr/share/doc/remove-me"
			mkdir -p "$_d/usr/share/doc/gone-dir/sub"
			printf 'x\n' >"$_d/usr/share/doc/gone-dir/sub/file"
			printf 'notes\n' >"$_d/home/user/notes with spaces.txt"
			chown 1000:1000 "$_d/home/user/notes with spaces.txt"
			printf 'caf\303\251\n' >"$_d/usr/share/doc/caf$(printf '\303\251')"
			printf 'deep\n' >"$_d/srv/a-very-long-directory-name-that-goes-on-and-on/and-on-and-on/and-on-and-on-and-on/a-file-with-a-long-name-too.txt"
			;;
		links)
			mkdir -p "$_d/bin" "$_d/etc" "$_d/usr/share/doc"
			[ -e "$_d/bin/busybox" ] || { cp /bin/busybox "$_d/bin/busybox" && chmod 4755 "$_d/bin/busybox"; }
			ln -sf busybox "$_d/bin/sh"
			ln -sf /bin/busybox "$_d/bin/ls"
			ln -sf ../nowhere "$_d/etc/dangling"
			[ -e "$_d/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' >"$_d/etc/passwd"
			ln -f "$_d/etc/passwd" "$_d/etc/passwd.hard"
			rm -f "$_d/etc/fifo"
			mkfifo "$_d/etc/fifo"
			;;
		esac
	done
}

run_job()
{
	rc=0
	timeout -k 10 "$KILN_TEST_TIMEOUT" $OUTPUT_TEST "$1" >"$TMP/out" 2>"$TMP/err" || rc=$?
	check_not_crashed "$@"
}

run_job_ok()
{
	run_job "$1"
	[ "$rc" -eq 0 ] || fail "output_test $1 exited with status $rc: $(head -c 500 "$TMP/err")"
}

tree_list()
{
	(cd "$1" && find . -mindepth 1 ! -type d -printf '%p %y %#m %U:%G %s %n %l\n' &&
		find . -mindepth 1 -type d -printf '%p %y %#m %U:%G\n') | LC_ALL=C sort
}

same_tree()
{
	tree_list "$1" >"$TMP/list.a"
	tree_list "$2" >"$TMP/list.b"
	diff -u "$TMP/list.a" "$TMP/list.b" >"$TMP/list.diff" ||
		fail "trees $1 and $2 differ in metadata: $(head -n 20 "$TMP/list.diff")"
	diff -r --no-dereference -x fifo "$1" "$2" >"$TMP/content.diff" 2>&1 ||
		fail "trees $1 and $2 differ in content: $(head -n 20 "$TMP/content.diff")"
}

jq_out()
{
	jq -r "$1" "$TMP/out"
}
