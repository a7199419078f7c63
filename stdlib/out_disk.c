/*
 * output disk: the image as a disk for a virtual machine: GPT with an EFI
 * system partition and an ext4 root file system, raw or qcow2. The label is
 * the path.
 */
#include "entries.h"

#include "arena.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1ull << 20)

int stdlib_size_parse(const char *s, unsigned long long *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || s[0] == '-')
		return -1;
	unsigned long long mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 0:
		break;
	case 'K':
		mul = 1ull << 10;
		break;
	case 'M':
		mul = 1ull << 20;
		break;
	case 'G':
		mul = 1ull << 30;
		break;
	case 'T':
		mul = 1ull << 40;
		break;
	default:
		return -1;
	}
	if (mul > 1) {
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end || (v && mul > UINT64_MAX / v))
		return -1;
	*ret = v * mul;
	return 0;
}

/* A size argument given (not "auto"): 1 and *ret, 0 absent or auto (or not known yet),
   -1 unreadable. */
static int size_arg(const json_t *args, const char *name, unsigned long long *ret)
{
	const char *s = json_string_value(json_object_get(args, name));
	if (!s || !strcmp(s, "auto"))
		return 0;
	return stdlib_size_parse(s, ret) < 0 ? -1 : 1;
}

char *stdlib_disk_check(const json_t *args, const char **ret_arg)
{
	static const char *const names[] = {"size", "esp_size"};
	unsigned long long v[2] = {0, 64 * MIB};
	int given[2];
	for (int i = 0; i < 2; i++) {
		given[i] = size_arg(args, names[i], &v[i]);
		if (given[i] < 0) {
			*ret_arg = names[i];
			return xasprintf(
			    "%s '%s': expected a number of bytes with an optional K, M, "
			    "G or T (e.g. \"4G\"), or \"auto\"",
			    names[i], json_string_value(json_object_get(args, names[i])));
		}
	}
	unsigned long long esp = (v[1] + MIB - 1) / MIB * MIB;
	if (given[1] && esp < 33 * MIB) {
		*ret_arg = "esp_size";
		return xasprintf("esp_size %s: the EFI system partition needs at least 33M (FAT32)",
		                 json_string_value(json_object_get(args, "esp_size")));
	}
	/* the smallest disk: 1M of partition table before, the ESP (64M when auto, more when
	   the image boots), the root and 1M after; the root holds 32M of ext4 journal and
	   metadata besides the tree, so 33M at the least */
	if (given[0] && v[0] / MIB * MIB < 2 * MIB + esp + 33 * MIB) {
		*ret_arg = "size";
		return xasprintf("size %s: too small: the disk needs at least %lluM (an EFI "
		                 "system partition of %lluM%s, and a root of 32M of ext4 journal "
		                 "and metadata plus the image's tree)",
		                 json_string_value(json_object_get(args, "size")),
		                 (esp + 35 * MIB) / MIB, esp / MIB,
		                 given[1] ? "" : " (esp_size auto)");
	}
	return NULL;
}

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
    .check_args = stdlib_disk_check,
};
