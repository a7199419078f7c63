/*
 * base_tarball: tarball(path) -> the archive's tree in the destination,
 * extracted by extract.c (any compression libarchive reads). The archive is
 * refused as a whole, at its first hostile entry (absolute name, "..", hard
 * link leaving the root, write through one of its own symlinks); base.c then
 * empties the destination. The "./" entry sets the root's mode and owner.
 */
#include "base_int.h"

#include "extract.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int base_tarball(struct base_run *b)
{
	const char *arg;
	int r = base_arg_string(b, "path", NULL, &arg);
	if (r < 0)
		return r;
	if (!arg || !arg[0])
		return rt_error_set(b->err, -EINVAL, "tarball(): argument 'path' is required");
	char *path = base_local_path(b, arg);
	char label[600];
	snprintf(label, sizeof(label), "tarball(): '%s'", path);
	struct extract_opts opts = {.flags = EXTRACT_ROOT_META, .label = label};
	struct extract_stats st = {0};
	base_progress(b, "extracting %s", path);
	r = extract_path(b->dest_fd, path, &opts, &st, b->err);
	if (r == 0) {
		base_progress(b, "%llu entries, %llu bytes", (unsigned long long)st.entries,
		              (unsigned long long)st.bytes);
		if (st.skipped_devices)
			base_progress(b, "%llu device nodes skipped (not running as root)",
			              (unsigned long long)st.skipped_devices);
	}
	free(path);
	return r;
}

const struct base_impl base_tarball_impl = {"tarball", base_tarball};
