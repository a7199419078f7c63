/*
 * extract: unpack an archive (any format and compression libarchive reads:
 * tar, pax, cpio, zip; gzip, xz, zstd, bzip2, ...) into a directory, so that
 * no entry can land outside it. Used by the tarball and oci bases and by
 * the unarchive module.
 *
 * Every entry is created relative to a directory fd: its parent directory is
 * opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV),
 * so a symlink already in the tree resolves inside the root, never on the
 * build machine, and the entry itself is made with O_EXCL | O_NOFOLLOW (or
 * mkdirat, symlinkat, linkat, mknodat), never through a final symlink.
 *
 * The whole archive is refused, at its first bad entry, with an error naming
 * the entry, when an entry
 *   - has an absolute name ("/etc/passwd") or a ".." component: refused, not
 *     stripped as GNU tar does, since such an archive was not made to be a
 *     root filesystem or an application tree;
 *   - is a hard link whose target is absolute or has a ".." component;
 *   - would be written through a symlink that an earlier entry of the same
 *     archive made (the shape of CVE-2021-29136: "a -> /etc", then
 *     "a/passwd"), as a name or as a hard link's target;
 *   - needs a path that cannot be resolved (a symlink loop: -ELOOP).
 * Entries already written stay; the caller clears the directory (see
 * extract_clear_dir) when the result must be all or nothing.
 *
 * Metadata: modes are kept whole (setuid, setgid, sticky), owners are the
 * archive's numeric ids (names are ignored) when running as root, mtimes are
 * kept (directories' at the end). Device nodes are made only when running as
 * root, else skipped and counted. Of extended attributes only
 * security.capability is restored (root only); ACLs are ignored.
 *
 * OCI layers (EXTRACT_WHITEOUTS): ".wh.NAME" removes NAME and ".wh..wh..opq"
 * empties its directory, each only of what earlier layers made: entries of
 * the same layer are kept, as the image spec asks. Other ".wh..wh." names
 * (aufs metadata) are skipped.
 *
 * None of these functions print; they fill *err and return < 0.
 */
#ifndef KILN_EXTRACT_H
#define KILN_EXTRACT_H

#include "rt.h"

#include <stdint.h>

enum {
	EXTRACT_WHITEOUTS = 1 << 0, /* OCI layer: apply .wh. entries */
	EXTRACT_ROOT_META = 1 << 1, /* a "." entry sets the root's mode, owner, mtime */
	EXTRACT_NO_OWNERS = 1 << 2, /* never chown (kept as the extracting user) */
};

struct extract_opts {
	unsigned flags;
	/* How errors name the archive, e.g. "archive 'rootfs.tar'"; NULL: "archive". */
	const char *label;
	/*
	 * If not NULL: filled with the SHA-256 of the archive's bytes as read
	 * (the compressed file, all of it), to check a digest known in advance.
	 */
	unsigned char *sha256_out; /* 32 bytes */
};

struct extract_stats {
	uint64_t entries;         /* entries created or applied */
	uint64_t bytes;           /* bytes of file data written */
	uint64_t skipped_devices; /* device nodes skipped (not root) */
	uint64_t whiteouts;       /* whiteouts applied */
};

/*
 * Extract the archive read from archive_fd (from its current offset to its
 * end; the fd is not closed) into the directory root_fd. stats may be NULL.
 * Returns 0, or < 0 with *err naming the archive and the entry.
 */
int extract_fd(int root_fd, int archive_fd, const struct extract_opts *opts,
               struct extract_stats *stats, struct rt_error *err);

/* The same from a file on the build machine. */
int extract_path(int root_fd, const char *archive_path, const struct extract_opts *opts,
                 struct extract_stats *stats, struct rt_error *err);

/*
 * Remove everything inside the directory dir_fd (not the directory itself),
 * never following a symlink and never descending into another file system
 * (a mount point inside is -EBUSY). Returns 0 or < 0 with *err.
 */
int extract_clear_dir(int dir_fd, struct rt_error *err);

/* Remove name (a file, link or whole directory) in dir_fd the same way; missing is 0. */
int extract_remove_at(int dir_fd, const char *name, struct rt_error *err);

#endif
