/*
 * atomic: how kiln writes a file on the build machine (a plan, an output, a
 * checksum, a manifest, a cache entry). The content goes to a temporary
 * beside the final name, `.NAME.kiln-tmp.XXXXXXXX` (8 random characters,
 * created with O_CREAT|O_EXCL|O_NOFOLLOW), is synced, then renamed over
 * NAME: a reader or a kill at any moment sees the old file or the new one.
 *
 * What is at NAME decides:
 *   nothing, a regular file, a symlink  replaced (a symlink itself, never
 *                                       what it points to)
 *   a character device, a FIFO          written through, in place, as other
 *                                       tools do (`-o /dev/null` discards)
 *   a directory, a socket, a block      refused with an error; nothing written
 *   device
 *   "-" (with ATOMIC_DASH_STDOUT)       standard output
 *
 * While kiln writes, the temporary holds an flock; a temporary that nobody
 * holds is a leftover of a killed kiln and is removed by the next write of
 * the same NAME (atomic_remove_stale), and by nothing else.
 */
#ifndef KILN_ATOMIC_H
#define KILN_ATOMIC_H

#include "rt.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
	ATOMIC_DASH_STDOUT = 1 << 0, /* "-" is standard output */
	ATOMIC_DIR = 1 << 1,         /* make a temporary directory (no fd; see atomic_file_open) */
	ATOMIC_NO_SYNC = 1 << 2,     /* a work file that need not survive a crash */
	ATOMIC_NO_DIRECT = 1 << 3,   /* refuse a device or FIFO at the final name too */
};

struct atomic_file {
	char *path;  /* the final name */
	char *tmp;   /* the temporary; NULL when writing in place or once committed */
	int fd;      /* write here (not with ATOMIC_DIR); closed by commit or abort */
	int lock_fd; /* holds the temporary's flock until commit or abort */
	unsigned flags;
	bool direct; /* writing in place: standard output, a character device or a FIFO */
};

/*
 * Start writing path: af->fd is where the bytes go (with ATOMIC_DIR, af->tmp
 * is an empty directory to fill instead). mode is the new file's (0666 or
 * 0600, say; the umask applies). The parent directory must exist. Leftover
 * temporaries of the same name are removed first. Returns 0, or < 0 with err
 * saying what is at path and why it is not written.
 */
int atomic_file_open(struct atomic_file *af, const char *path, mode_t mode, unsigned flags,
                     struct rt_error *err);
/* Sync and rename into place (a directory over an earlier one: see atomic.c); closes af->fd.
   Refused with -EINTR once rt_interrupted is set. The temporary is removed on failure. */
int atomic_file_commit(struct atomic_file *af, struct rt_error *err);
/* Remove the temporary if still there, close, free. Takes a committed or zeroed af. */
void atomic_file_abort(struct atomic_file *af);

/* Write all of buf to fd, retrying after EINTR and short writes: 0 or -errno. */
int fd_write_all(int fd, const void *buf, size_t n);
/* Remove name under dfd and everything below it, never following a symlink: 0 or -errno. */
int rm_rf_at(int dfd, const char *name);

/*
 * Remove the temporaries `.BASE.kiln-tmp.XXXXXXXX` beside path that no kiln
 * holds (left by a killed one). Exactly that pattern; nothing else is
 * touched. Returns how many were removed.
 */
int atomic_remove_stale(const char *path);
/* Whether name is a temporary of atomic_file_open (any BASE). */
bool atomic_is_temp_name(const char *name);

/*
 * Async-signal-safe: unlink the temporaries of files being written now (not
 * directories). For a signal handler that ends the process with _exit.
 */
void atomic_unlink_pending(void);

#endif
