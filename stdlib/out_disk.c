/*
 * output disk: the image as a disk for a virtual machine: GPT with an EFI
 * system partition and an ext4 root file system, raw or qcow2. The label is
 * the path.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"path", "path", true, NULL, "the disk to write, relative to the .img file; the label sets it"},
    {"format", "enum(auto, raw, qcow2)", false, "\"auto\"",
     "auto: qcow2 when the path ends in .qcow2, else raw"},
    {"size", "string", false, "\"auto\"",
     "the disk's size (\"4G\", \"512M\"); auto: the tree's size with a quarter more room, "
     "plus the EFI system partition"},
    {"esp_size", "string", false, "\"auto\"",
     "the EFI system partition's size (at least 33M); auto: 64M, or twice the kernel and "
     "initrd when the disk boots"},
    {"bootable", "enum(auto, true, false)|bool", false, "\"auto\"",
     "auto: the disk boots when the image has a kernel (/boot/vmlinuz-*): systemd-boot "
     "(UEFI) starts it; true: it must"},
    {"kernel_cmdline", "string", false, "\"console=ttyS0\"",
     "the kernel's command line after root=UUID=... ro"},
    {0},
};

const struct kiln_schema out_disk_schema = {
    .kind = SCHEMA_OUTPUT,
    .name = "disk",
    .doc = "write the image as a GPT disk for a virtual machine, raw or qcow2",
    .label = "path",
    .args = args,
    .example = "output disk \"out/web.qcow2\" { size = \"4G\" }",
};
