#!/bin/sh
# tests/runtime/t6200-disk.sh: output disk writes a GPT disk (an EFI system partition and
# an ext4 root) from the image's tree, raw and qcow2, without loop devices or mounts. Real
# tools read it back: sfdisk and sgdisk the partition table, e2fsck and debugfs the root
# file system (files, a hard link, a FIFO, a symlink, a file with holes, /etc/fstab by
# UUID), mtools the EFI system partition, qemu-img the qcow2. Two clean builds in other
# directories, with another umask and TZ, give the same bytes. A size too small is a clear
# error and leaves nothing; a directory at the output's path is refused and kept.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need sfdisk
need sgdisk
need e2fsck
need debugfs
need qemu-img
need mdir
need mkfs.fat
need sha256sum

mkdir build
cat >build/vm.img <<'EOF2'
image vm from busybox() {
  stage files {
    file "/hello.txt" {
      content = "hello from kiln\n"
      mode = 0644
    }
    file "/srv" { state = directory, mode = 0755 }
    file "/srv/link" { state = link, src = "/hello.txt" }
    shell "ln /hello.txt /hello-again.txt && mkfifo /srv/fifo && dd if=/dev/zero of=/srv/zeros bs=65536 count=16 2>/dev/null && printf end >>/srv/zeros" {
      creates = "/srv/fifo"
    }
  }
  output disk "out/vm.raw" {}
  output disk "out/vm.qcow2" { size = "128M", esp_size = "40M" }
}
EOF2

kapply build/vm.img
expect_rc 0
expect_match err 'wrote +disk out/vm.raw sha256:[0-9a-f]{64}'
expect_match err 'wrote +disk out/vm.qcow2 sha256:[0-9a-f]{64}'
[ -z "$(temp_files build/out)" ] || fail "temporary files left: $(temp_files build/out)"
raw=build/out/vm.raw

# the partition table: GPT, an ESP at 1 MiB, the root after it, both checked by sgdisk
sfdisk --dump "$raw" >dump 2>&1 || fail "sfdisk --dump: $(cat dump)"
grep -q '^label: gpt' dump || fail "not a GPT disk: $(cat dump)"
grep -Eq 'raw1 : start= +2048, size= +131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B.*name="esp"' dump ||
	fail "partition 1 is not a 64 MiB ESP at 1 MiB: $(cat dump)"
grep -Eq 'raw2 : start= +133120, .*type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709.*name="root"' dump ||
	fail "partition 2 is not the x86-64 root after the ESP: $(cat dump)"
sgdisk -v "$raw" >sg 2>&1 || fail "sgdisk -v: $(cat sg)"
grep -q 'No problems found' sg || fail "sgdisk -v: $(cat sg)"

# the root file system
fs="$raw?offset=$((133120 * 512))"
e2fsck -fn "$fs" >fsck 2>&1 || fail "e2fsck -fn: $(cat fsck)"
[ "$(debugfs -R 'cat /hello.txt' "$fs" 2>/dev/null)" = "hello from kiln" ] ||
	fail "/hello.txt does not hold what the task wrote"
debugfs -R 'stat /hello-again.txt' "$fs" 2>/dev/null | grep -q 'Links: 2' ||
	fail "/hello-again.txt is not a second link of /hello.txt"
debugfs -R 'stat /srv/fifo' "$fs" 2>/dev/null | grep -q 'Type: FIFO' || fail "/srv/fifo is not a FIFO"
debugfs -R 'stat /srv/link' "$fs" 2>/dev/null | grep -q 'Fast link dest: "/hello.txt"' ||
	fail "/srv/link is not a symlink to /hello.txt"
debugfs -R 'stat /srv/zeros' "$fs" 2>/dev/null >zeros
grep -q 'Size: 1048579' zeros || fail "/srv/zeros has the wrong size: $(cat zeros)"
grep -Eq 'Blockcount: 8$' zeros || fail "/srv/zeros's zero blocks are not holes: $(cat zeros)"
[ "$(debugfs -R 'cat /srv/zeros' "$fs" 2>/dev/null | tail -c 3)" = "end" ] || fail "/srv/zeros's end is lost"
[ "$(debugfs -R 'cat /bin/busybox' "$fs" 2>/dev/null | sha256sum)" = "$(sha256sum </bin/busybox)" ] ||
	fail "/bin/busybox differs from the base's"
uuid=$(dumpe2fs -h "$fs" 2>/dev/null | awk '/^Filesystem UUID:/ { print $3 }')
debugfs -R 'cat /etc/fstab' "$fs" 2>/dev/null | grep -Eq "^UUID=$uuid / ext4 " ||
	fail "/etc/fstab does not mount the root by its UUID $uuid"
debugfs -R 'stat /hello.txt' "$fs" 2>/dev/null | grep -q 'ctime: 0x00000001:00000000' ||
	fail "the times of /hello.txt are not the image's time"

# the EFI system partition: FAT, labelled ESP
minfo -i "$raw@@1048576" :: >minfo 2>&1 || fail "minfo: $(cat minfo)"
grep -q 'label=ESP' minfo || grep -q 'ESP' minfo || fail "the ESP has no label ESP: $(cat minfo)"

# qcow2
qemu-img check build/out/vm.qcow2 >qc 2>&1 || fail "qemu-img check: $(cat qc)"
qemu-img info --output=json build/out/vm.qcow2 >qi
jq -e '.format == "qcow2" and ."virtual-size" == 134217728' qi >/dev/null ||
	fail "vm.qcow2 is not a 128 MiB qcow2: $(cat qi)"

# reproducible: a clean build elsewhere, another umask and TZ, gives the same bytes
sum1=$(cd build/out && sha256sum vm.raw vm.qcow2)
mkdir -p "$TMP/other/place"
cp build/vm.img "$TMP/other/place/"
(cd "$TMP/other/place" && umask 027 && TZ=Asia/Tokyo LC_ALL=C.UTF-8 "$KILN" apply \
	--work-dir="$TMP/w2" --cache-dir="$TMP/c2" --progress=plain vm.img >"$TMP/o2" 2>&1) ||
	fail "the second build failed: $(tail -n 5 "$TMP/o2")"
sum2=$(cd "$TMP/other/place/out" && sha256sum vm.raw vm.qcow2)
[ "$sum1" = "$sum2" ] || fail "two clean builds differ: $sum1 / $sum2"

# a size too small for the tree (lint cannot know the tree: apply says it): a clear error, no disk
cat >build/small.img <<'EOF2'
image small from busybox() {
  output disk "out/small.raw" { size = "70M", esp_size = "33M" }
}
EOF2
kapply build/small.img
expect_rc 1
expect_match err 'raise `size`'
[ ! -e build/out/small.raw ] || fail "a disk was left after the error"
[ -z "$(temp_files build/out)" ] || fail "temporary files left: $(temp_files build/out)"

# a directory at the output's path is refused and kept
mkdir -p build/out/dir.raw/keep
cat >build/dir.img <<'EOF2'
image d from busybox() {
  output disk "out/dir.raw" {}
}
EOF2
kapply build/dir.img
expect_rc 1
[ -d build/out/dir.raw/keep ] || fail "the directory at the output's path was replaced"
