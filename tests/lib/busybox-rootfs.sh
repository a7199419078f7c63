#!/bin/sh
# tests/lib/busybox-rootfs.sh DIR: make a minimal busybox root filesystem in DIR for tests,
# without kiln (the same shape as kiln's busybox() base): Debian's static /bin/busybox with
# a symlink for every applet, root in /etc/passwd and /etc/group, /etc/os-release
# (ID=busybox), /tmp (1777), /root, and /dev /proc /sys /etc/resolv.conf placeholders.
#
#   sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/root" || skip "no busybox-static"
#
# Exit status: 0 made, 77 /bin/busybox missing or not static (install busybox-static),
# 1 another error. DIR may exist; what is in it stays unless replaced.
set -eu
[ $# -eq 1 ] || { echo "usage: busybox-rootfs.sh DIR" >&2; exit 1; }
dir=$1
bb=${BUSYBOX:-/bin/busybox}
if [ ! -x "$bb" ]; then
	echo "busybox-rootfs.sh: $bb not found: apt-get install busybox-static" >&2
	exit 77
fi
# A dynamic busybox cannot run in an empty root: its loader is not there.
if command -v readelf >/dev/null 2>&1 && readelf -l "$bb" 2>/dev/null | grep -q 'INTERP'; then
	echo "busybox-rootfs.sh: $bb is dynamically linked: apt-get install busybox-static" >&2
	exit 77
fi
mkdir -p "$dir"
for d in bin sbin usr/bin usr/sbin etc dev proc sys tmp root run var/tmp var/log home; do
	mkdir -p "$dir/$d"
done
chmod 1777 "$dir/tmp" "$dir/var/tmp"
chmod 0700 "$dir/root"
chmod 0555 "$dir/proc" "$dir/sys"
cp "$bb" "$dir/bin/busybox"
chmod 0755 "$dir/bin/busybox"
"$bb" --list-full | while read -r applet; do
	case $applet in
	bin/busybox | /* | *..*) continue ;;
	*/*) mkdir -p "$dir/${applet%/*}" ;;
	esac
	[ -e "$dir/$applet" ] || [ -L "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
	>"$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
printf 'root:*:::::::\nnobody:*:::::::\n' >"$dir/etc/shadow"
chmod 0640 "$dir/etc/shadow"
printf 'NAME="BusyBox"\nID=busybox\nPRETTY_NAME="BusyBox (test rootfs)"\n' >"$dir/etc/os-release"
printf '127.0.0.1\tlocalhost\n' >"$dir/etc/hosts"
: >"$dir/etc/resolv.conf"
