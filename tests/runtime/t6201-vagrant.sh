#!/bin/sh
# tests/runtime/t6201-vagrant.sh: output vagrant writes a libvirt box that Debian's vagrant
# adds (`vagrant box add`, in a VAGRANT_HOME of the test's own): metadata.json says libvirt
# and qcow2, the Vagrantfile carries memory and cpus, box.img is a clean qcow2 whose root
# file system holds the image's files. Two clean builds give the same box.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need vagrant
need qemu-img
need e2fsck
need debugfs

mkdir build
cat >build/box.img <<'EOF2'
image box from busybox() {
  stage files {
    file "/hello.txt" { content = "hello from a box\n" }
  }
  output vagrant "out/box.box" { memory = 512, cpus = 2 }
}
EOF2

kapply build/box.img
expect_rc 0
expect_match err 'wrote +vagrant out/box.box sha256:[0-9a-f]{64}'
[ -z "$(temp_files build/out)" ] || fail "temporary files left: $(temp_files build/out)"
[ "$(ls build/out)" = "box.box" ] || fail "the box's disks were left beside it: $(ls build/out)"

mkdir unpacked
tar -xzf build/out/box.box -C unpacked || fail "the box is not a gzip tar"
[ "$(tar -tzf build/out/box.box | tr '\n' ' ')" = "metadata.json Vagrantfile box.img " ] ||
	fail "the box holds $(tar -tzf build/out/box.box | tr '\n' ' ')"
jq -e '.provider == "libvirt" and .format == "qcow2" and .virtual_size == 1' unpacked/metadata.json \
	>/dev/null || fail "metadata.json: $(cat unpacked/metadata.json)"
grep -q 'libvirt.memory = 512' unpacked/Vagrantfile || fail "Vagrantfile: $(cat unpacked/Vagrantfile)"
grep -q 'libvirt.cpus = 2' unpacked/Vagrantfile || fail "Vagrantfile: $(cat unpacked/Vagrantfile)"
qemu-img check unpacked/box.img >qc 2>&1 || fail "qemu-img check: $(cat qc)"
qemu-img convert -f qcow2 -O raw unpacked/box.img disk.raw
off=$(($(sfdisk --json disk.raw | jq '.partitiontable.partitions[1].start') * 512))
e2fsck -fn "disk.raw?offset=$off" >fsck 2>&1 || fail "e2fsck: $(cat fsck)"
[ "$(debugfs -R 'cat /hello.txt' "disk.raw?offset=$off" 2>/dev/null)" = "hello from a box" ] ||
	fail "the box's disk does not hold /hello.txt"

# vagrant itself takes it
VAGRANT_HOME=$TMP/vagrant-home vagrant box add --name kiln/test build/out/box.box >vout 2>&1 ||
	fail "vagrant box add: $(tail -n 5 vout)"
VAGRANT_HOME=$TMP/vagrant-home vagrant box list >vlist 2>&1
grep -Eq '^kiln/test +\(libvirt, 0\)' vlist || fail "vagrant box list: $(cat vlist)"

# reproducible
sum1=$(sha256sum <build/out/box.box)
mkdir -p "$TMP/elsewhere"
cp build/box.img "$TMP/elsewhere/"
(cd "$TMP/elsewhere" && umask 077 && TZ=America/Lima "$KILN" apply --work-dir="$TMP/w2" \
	--cache-dir="$TMP/c2" --progress=plain box.img >"$TMP/o2" 2>&1) ||
	fail "the second build failed: $(tail -n 5 "$TMP/o2")"
[ "$sum1" = "$(sha256sum <"$TMP/elsewhere/out/box.box")" ] || fail "two clean builds differ"
