/*
 * output vagrant: the image as a Vagrant box for the libvirt provider: the
 * disk as qcow2 (box.img), metadata.json and a Vagrantfile, in a gzip tar.
 * The label is the path.
 */
#include "entries.h"

#include "arena.h"

/* the disk's arguments, then the machine's memory and CPUs, as apply checks them */
static char *check_args(const json_t *args, const char **ret_arg)
{
	char *why = stdlib_disk_check(args, ret_arg);
	if (why)
		return why;
	const json_t *m = json_object_get(args, "memory"), *c = json_object_get(args, "cpus");
	if (json_is_integer(m) && (json_integer_value(m) < 64 || json_integer_value(m) > 1 << 22)) {
		*ret_arg = "memory";
		return xasprintf("memory %" JSON_INTEGER_FORMAT
		                 " MiB: a machine takes 64 MiB or more (at most 4194304)",
		                 json_integer_value(m));
	}
	if (json_is_integer(c) && (json_integer_value(c) < 1 || json_integer_value(c) > 1024)) {
		*ret_arg = "cpus";
		return xasprintf("cpus %" JSON_INTEGER_FORMAT ": a machine takes 1 to 1024 CPUs",
		                 json_integer_value(c));
	}
	return NULL;
}

static const struct kiln_arg args[] = {
    {"path", "path", true, NULL,
     "the box to write (.box), relative to the .img file; the label sets it"},
    {"provider", "enum(libvirt)", false, "\"libvirt\"", "the Vagrant provider the box is for"},
    {"size", "string", false, "\"auto\"", "the disk's size, as for output disk"},
    {"esp_size", "string", false, "\"auto\"",
     "the EFI system partition's size, as for output disk"},
    {"bootable", "enum(auto, true, false)|bool", false, "\"auto\"", "as for output disk"},
    {"kernel_cmdline", "string", false, "\"console=ttyS0\"", "as for output disk"},
    {"memory", "int", false, "1024", "the machine's memory in MiB (the box's Vagrantfile)"},
    {"cpus", "int", false, "1", "the machine's virtual CPUs (the box's Vagrantfile)"},
    {0},
};

const struct kiln_schema out_vagrant_schema = {
    .kind = SCHEMA_OUTPUT,
    .name = "vagrant",
    .doc = "write the image as a Vagrant box (libvirt: a qcow2 disk, metadata.json, Vagrantfile)",
    .label = "path",
    .args = args,
    .example = "output vagrant \"out/web.box\" { memory = 2048 }",
    .check_args = check_args,
    .machine = true,
};
