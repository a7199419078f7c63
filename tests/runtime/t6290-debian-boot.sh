#!/bin/sh
# tests/runtime/t6290-debian-boot.sh: the slow one for disks. kiln bakes a Debian image with
# the cloud kernel, systemd and a unit that writes a marker to the serial console, writes it
# as a qcow2 disk (systemd-boot on the EFI system partition, the root by UUID), and qemu
# (TCG, OVMF's UEFI firmware) boots it until the marker shows on the serial console: the
# disk boots to multi-user with the image's services running. Skipped when the Debian
# mirror cannot be reached within 10 seconds.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need debootstrap
need qemu-system-x86_64
need qemu-img
# the sanitizer build writes the same disk (t6200 covers the writer under ASan); booting it
# again would only double the minutes
if ldd $KILN 2>/dev/null | grep -q 'libasan\|libubsan'; then
	skip "the boot test runs on the plain build"
fi
OVMF=/usr/share/ovmf/OVMF.fd
[ -f $OVMF ] || skip "needs OVMF's firmware ($OVMF, Debian's ovmf)"
[ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] ||
	skip "needs systemd-boot's EFI binary (Debian's systemd-boot-efi)"

MIRROR=http://deb.debian.org/debian
if command -v curl >/dev/null 2>&1; then
	timeout 10 curl -fsI "$MIRROR/dists/bookworm/Release" >/dev/null 2>&1 ||
		skip "the Debian mirror $MIRROR does not answer within 10 s"
else
	skip "needs curl to probe the Debian mirror"
fi
KILN_TEST_TIMEOUT=${KILN_TEST_SLOW_TIMEOUT:-1500}

mkdir build
cat >build/vm.img <<'EOF2'
image vm from debian("bookworm", variant = "minbase") {
  stage kernel {
    apt "a kernel, init and the initramfs tools" {
      name = ["linux-image-cloud-amd64", "systemd-sysv", "initramfs-tools"]
      update_cache = true
    }
    file "/etc/systemd/system/kiln-marker.service" {
      content = <<-EOT
        [Unit]
        Description=kiln boot marker

        [Service]
        Type=oneshot
        ExecStart=/bin/sh -c 'echo "KILN-BOOT-$((6 * 7))" >/dev/ttyS0'

        [Install]
        WantedBy=multi-user.target
        EOT
    }
    file "/etc/systemd/system/multi-user.target.wants/kiln-marker.service" {
      state = link
      src = "/etc/systemd/system/kiln-marker.service"
    }
  }
  output disk "out/vm.qcow2" {}
}
EOF2

t0=$(date +%s)
kapply build/vm.img
expect_rc 0
t1=$(date +%s)
say "baked in $((t1 - t0)) s"
qemu-img check build/out/vm.qcow2 >qc 2>&1 || fail "qemu-img check: $(cat qc)"

# boot it: the marker is the unit's output, not a line the console echoes from the image
qemu-system-x86_64 -machine q35 -accel tcg -m 1024 -smp 1 -no-reboot -display none \
	-monitor none -serial "file:$TMP/serial.log" -bios $OVMF -nic none \
	-drive "file=build/out/vm.qcow2,if=virtio,format=qcow2,snapshot=on" >qemu.out 2>&1 &
QPID=$!
found=
i=0
while [ $i -lt 600 ]; do
	if grep -q 'KILN-BOOT-42' "$TMP/serial.log" 2>/dev/null; then
		found=1
		break
	fi
	kill -0 $QPID 2>/dev/null || break
	sleep 1
	i=$((i + 1))
done
kill $QPID 2>/dev/null || true
wait $QPID 2>/dev/null || true
[ -n "$found" ] || fail "no marker on the serial console after $i s: $(tail -n 20 "$TMP/serial.log" | tr -d '\r')"
say "booted to the marker in $i s (TCG)"
grep -q 'Reached target.*Multi-User' "$TMP/serial.log" || grep -q 'multi-user' "$TMP/serial.log" ||
	say "(systemd's status lines are not on the serial console)"
