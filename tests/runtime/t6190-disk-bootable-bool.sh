#!/bin/sh
# tests/runtime/t6190-disk-bootable-bool.sh: bootable written as a bool (bootable = true,
# bootable = false) means what the words mean, in output disk and output vagrant:
#   - bootable = true on an image with no kernel is the clear error it is as "true";
#   - bootable = false on an image with a kernel gives a disk whose EFI system partition
#     holds no boot loader, bootable = true one with systemd-boot at EFI/BOOT/BOOTX64.EFI;
#   - a Vagrant box with bootable = true and no kernel is refused the same way.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need mdir
need mkfs.fat
need sfdisk
[ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] ||
	skip "needs systemd-boot's EFI binary (systemd-boot-efi)"

mkdir build
# The images without a kernel run a shell task: it could install one, so lint says nothing
# (lint's own verdict, E4007, is in tests/compile/values/E4007-no-kernel.img) and apply
# finds out.
cat >build/nokernel.img <<'EOF2'
image nok from busybox() {
  stage s { shell "no kernel after all" { cmd = "echo hi >/hello.txt" } }
  output disk "out/nok.raw" { bootable = true }
}
EOF2
kapply build/nokernel.img
[ "$rc" -ne 0 ] || fail "bootable = true (a bool) on an image with no kernel was written"
expect_match err 'bootable = true, and the image has no kernel'
[ ! -e build/out/nok.raw ] || fail "a refused disk was left at out/nok.raw"

cat >build/nokbox.img <<'EOF2'
image nokb from busybox() {
  stage s { shell "no kernel after all" { cmd = "echo hi >/hello.txt" } }
  output vagrant "out/nok.box" { bootable = true }
}
EOF2
kapply build/nokbox.img
[ "$rc" -ne 0 ] || fail "vagrant: bootable = true (a bool) on an image with no kernel was written"
expect_match err 'bootable = true, and the image has no kernel'

cat >build/kernel.img <<'EOF2'
image k from busybox() {
  stage s {
    file "/boot" { state = directory }
    file "/boot/vmlinuz-6.1.0-test" { content = "not really a kernel\n" }
    file "/boot/initrd.img-6.1.0-test" { content = "not really an initrd\n" }
  }
  output disk "out/off.raw" { bootable = false }
  output disk "out/on.raw" { bootable = true }
}
EOF2
kapply build/kernel.img
expect_rc 0
# the ESP is partition 1, at 1 MiB
mdir -i "build/out/on.raw@@1M" ::/EFI/BOOT >on.dir 2>&1 ||
	fail "bootable = true: no EFI/BOOT on the ESP: $(cat on.dir)"
grep -qi 'BOOTX64' on.dir || fail "bootable = true: no BOOTX64.EFI: $(cat on.dir)"
if mdir -i "build/out/off.raw@@1M" ::/EFI/BOOT >off.dir 2>&1; then
	fail "bootable = false (a bool) on an image with a kernel made a bootable disk: $(cat off.dir)"
fi
say "ok"
