#!/bin/sh
# bench/disk/run.sh: how fast kiln writes a bootable disk, side by side in one run with
# mkfs.ext4 -d of the same tree (the floor) and mkosi 14 (Debian's) building a disk of the
# same Debian package set. Run by hand (figures depend on the machine), as root, after
# building build/kiln:
#
#   sh bench/disk/run.sh [--no-mkosi] [--work DIR] [--mirror URL]
#
# The image: Debian bookworm minbase with linux-image-cloud-amd64, systemd-sysv and
# initramfs-tools, written as a tar (to get the same tree for mkfs.ext4) and as a raw disk
# of 2 GiB. Steps, each timed:
#
#   cold        kiln apply with an empty cache (debootstrap, apt: the network's time)
#   warm        kiln apply again with the outputs removed: the stages come from the cache,
#               the disk is written again: the time to a bootable image from a warm cache
#   kiln disk   the disk output alone, from the warm run's events (GPT, mkfs.fat, mkfs.ext4,
#               the tree through libext2fs, systemd-boot, kernel and initrd on the ESP)
#   mkfs -d     mkfs.ext4 -d of the same tree into a file of the root partition's size:
#               the floor for writing an ext4 file system from a tree
#   mkosi       mkosi -d debian -r bookworm -t gpt_ext4 --bootable with the same packages
#               (its own debootstrap and apt; compare with cold)
#
# and the sizes: the raw disk's apparent and allocated sizes, the qcow2's, mkosi's image.
# Needs jq, qemu-img, GNU tar; mkosi for the last step (Debian: mkosi).
set -eu
LC_ALL=C
export LC_ALL

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KILN=${KILN:-$TOP/build/kiln}
mkosi=1 work='' mirror=''
while [ $# -gt 0 ]; do
	case $1 in
	--no-mkosi) mkosi= ;;
	--work) work=$2; shift ;;
	--mirror) mirror=$2; shift ;;
	-h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/disk: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$KILN" ] || { echo "bench/disk: build kiln first ($KILN)" >&2; exit 1; }
[ -n "$work" ] || work=$(mktemp -d /tmp/kiln-bench-disk.XXXXXX)
mkdir -p "$work"
cd "$work"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }

mirror_arg=''
[ -z "$mirror" ] || mirror_arg=", mirror = \"$mirror\""
cat >vm.img <<EOF
image vm from debian("bookworm", variant = "minbase"$mirror_arg) {
  stage kernel {
    apt "kernel, init, initramfs" {
      name = ["linux-image-cloud-amd64", "systemd-sysv", "initramfs-tools"]
      update_cache = true
    }
  }
  output tar "out/vm.tar" {}
  output disk "out/vm.raw" { size = "2G" }
  output disk "out/vm.qcow2" { size = "2G" }
}
EOF

echo "bench/disk: work in $work"
rm -rf cache w out
t0=$(now)
"$KILN" apply --cache-dir=cache --work-dir=w --progress=plain vm.img >cold.log 2>&1 ||
	{ tail -n 20 cold.log; exit 1; }
t1=$(now)
rm -rf out
t2=$(now)
"$KILN" apply --cache-dir=cache --work-dir=w --events=json vm.img >warm.json 2>warm.err ||
	{ tail -n 20 warm.err; exit 1; }
t3=$(now)
disk_ms=$(jq -r 'select(.event == "artifact" and .path == "out/vm.raw") | .ms' warm.json)
qcow_ms=$(jq -r 'select(.event == "artifact" and .path == "out/vm.qcow2") | .ms' warm.json)

# the floor: the same tree, mkfs.ext4 -d, the root partition's size
rm -rf tree && mkdir tree
tar -xpf out/vm.tar --numeric-owner -C tree
root_sectors=$(sfdisk --json out/vm.raw | jq '.partitiontable.partitions[1].size')
rm -f floor.ext4
truncate -s $((root_sectors * 512)) floor.ext4
sync
t4=$(now)
mkfs.ext4 -q -F -d tree floor.ext4 >/dev/null
t5=$(now)
tree_mb=$(du -sm tree | cut -f1)

mk_s='-' mk_size='-'
if [ -n "$mkosi" ] && command -v mkosi >/dev/null 2>&1; then
	rm -rf mkosi && mkdir mkosi
	t6=$(now)
	if (cd mkosi && mkosi -d debian -r bookworm -t gpt_ext4 --bootable \
		-p linux-image-cloud-amd64,systemd-sysv,initramfs-tools -o image.raw build) \
		>mkosi.log 2>&1; then
		t7=$(now)
		mk_s=$(secs "$t6" "$t7")
		mk_size="$(du -m --apparent-size mkosi/image.raw | cut -f1) MB ($(du -m mkosi/image.raw | cut -f1) MB allocated)"
	else
		mk_s="failed (see $work/mkosi.log: $(tail -n 1 mkosi.log))"
	fi
fi

printf '\n%-34s %s\n' "tree" "$tree_mb MB, $(find tree | wc -l) entries"
printf '%-34s %s s\n' "kiln apply, cold cache" "$(secs "$t0" "$t1")"
printf '%-34s %s s\n' "kiln apply, warm cache (3 outputs)" "$(secs "$t2" "$t3")"
printf '%-34s %.2f s\n' "kiln disk output (raw)" "$(echo "$disk_ms / 1000" | bc -l)"
printf '%-34s %.2f s\n' "kiln disk output (qcow2)" "$(echo "$qcow_ms / 1000" | bc -l)"
printf '%-34s %s s\n' "mkfs.ext4 -d of the same tree" "$(secs "$t4" "$t5")"
printf '%-34s %s\n' "mkosi 14, same packages" "$mk_s"
printf '%-34s %s MB (%s MB allocated)\n' "kiln raw disk" \
	"$(du -m --apparent-size out/vm.raw | cut -f1)" "$(du -m out/vm.raw | cut -f1)"
printf '%-34s %s MB\n' "kiln qcow2" "$(du -m --apparent-size out/vm.qcow2 | cut -f1)"
printf '%-34s %s\n' "mkosi image" "$mk_size"
