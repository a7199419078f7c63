/*
 * disk: what the disk outputs (output_disk.c, output_vagrant.c) share:
 * the ext4 writer (disk_ext4.c) and the disk layout (output_disk.c).
 */
#ifndef KILN_DISK_H
#define KILN_DISK_H

#include "output_impl.h"

#include <stddef.h>
#include <stdint.h>

/* A file the disk's root file system holds in place of (or besides) the tree's. */
struct disk_file {
	const char *path; /* absolute, its directory in the tree */
	const char *content;
	size_t len;
	unsigned mode;
};

/*
 * Fill the empty ext4 file system at byte offset of the file image (made by
 * mkfs.ext4 -E offset=...) with the tree, then with files. Entries in sorted
 * order; every time is the entry's mtime clamped to epoch, and the file
 * system's own times are epoch: the same tree gives the same bytes.
 */
int disk_ext4_fill(const char *image, uint64_t offset, const char *tree, int64_t epoch,
                   const struct disk_file *files, size_t nfiles, struct rt_error *err);

/*
 * Write the image's disk (GPT: an EFI system partition and an ext4 root) as
 * a raw file at raw_path (created, or replaced): format qcow2 is left to
 * the caller. *ret_size is the disk's virtual size in bytes.
 */
int disk_write_raw(const struct output_ctx *ctx, const char *raw_path, uint64_t *ret_size,
                   struct rt_error *err);

/*
 * Run a tool (mkfs.ext4, mkfs.fat, qemu-img) with env_extra ("K=V", NULL-terminated, may
 * be NULL) added to the environment: 0 when it exits 0, else err names it with the last
 * line it printed, or says which Debian package has it when it is missing.
 */
int disk_run(const char *const *argv, const char *const *env_extra, struct rt_error *err);

#endif
