/*
 * cache_temps: what killed kilns left in the cache directory. Every writer of
 * the cache writes under a temporary name and renames; a kiln killed in
 * between leaves the temporary, which nothing else would ever remove:
 *
 *   .NAME.kiln-tmp.XXXXXXXX   atomic_file_open's (records, copied layers, blobs,
 *                             chunks): its writer holds an flock on it
 *   .KEY.kiln-link.PID        cache_store's hard link of a work layer
 *   .remote-PID.tar           a layer fetched for --cache-from
 *   NAME.PID.tmp              the registry base's blobs and refs
 *
 * A temporary is removed when its writer is gone: for the first kind, nobody
 * holds its flock; for the others, no process PID runs, or the one that runs
 * started after the file was last written (the pid came round again). The
 * directories looked in are the cache's own, two levels down at most; never
 * the trees kept for child images (root filesystems, whose files are the
 * image's, whatever their names).
 */
#include "cache.h"

#include "atomic.h"
#include "arena.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The pid in name when it is one of the pid-named temporaries, else 0. */
static long temp_pid(const char *name)
{
	size_t n = strlen(name);
	const char *digits = NULL, *end = NULL;
	const char *link = name[0] == '.' ? strstr(name, ".kiln-link.") : NULL;
	if (link) { /* .KEY.kiln-link.PID */
		digits = link + strlen(".kiln-link.");
		end = name + n;
	} else if (!strncmp(name, ".remote-", 8) && n > 12 && !strcmp(name + n - 4, ".tar")) {
		digits = name + 8; /* .remote-PID.tar */
		end = name + n - 4;
	} else if (n > 4 && !strcmp(name + n - 4, ".tmp")) {
		end = name + n - 4; /* NAME.PID.tmp */
		digits = end;
		while (digits > name && digits[-1] >= '0' && digits[-1] <= '9')
			digits--;
		if (digits == name || digits[-1] != '.' || digits - 1 == name)
			return 0;
	} else {
		return 0;
	}
	if (digits >= end || end - digits > 9 || *digits == '0')
		return 0;
	long pid = 0;
	for (const char *p = digits; p < end; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		pid = pid * 10 + (*p - '0');
	}
	return pid;
}

/* When process pid started (seconds since the epoch), or -1 when no such process runs. */
static double started_at(long pid)
{
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return -1;
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -1 : 0;
	ssize_t got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return 0; /* it runs; when it started is unknown: not older than anything */
	buf[got] = '\0';
	/* after the command name (which may hold anything) come the fields 3 onwards;
	   starttime, in clock ticks since boot, is field 22 */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	unsigned long long ticks = 0;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return 0;
	struct timespec now, boot;
	clock_gettime(CLOCK_REALTIME, &now);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	double booted =
	    (double)(now.tv_sec - boot.tv_sec) + (double)(now.tv_nsec - boot.tv_nsec) / 1e9;
	long hz = sysconf(_SC_CLK_TCK);
	return booted + (double)ticks / (double)(hz > 0 ? hz : 100);
}

/* Remove name under dfd if it is a temporary whose writer is gone: 1 when removed. */
static int clean_one(int dfd, const char *name)
{
	bool atomic = atomic_is_temp_name(name);
	long pid = atomic ? 0 : temp_pid(name);
	if (!atomic && pid <= 0)
		return 0; /* most names: no system call */
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return 0; /* kiln makes only files and directories */
	if (atomic) {
		int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return 0;
		/* a kiln writing it holds the lock: only a dead one's is free */
		int removed = flock(fd, LOCK_EX | LOCK_NB) == 0 && rm_rf_at(dfd, name) == 0;
		close(fd);
		return removed;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	double start = started_at(pid);
	double written = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
	/* a second of slack: the start time is in clock ticks */
	if (start >= 0 && !(start > written + 1))
		return 0;
	return unlinkat(dfd, name, 0) == 0;
}

/* The temporaries directly in dir (relative to the cache, "" for the cache itself), and in
   its subdirectories down to depth more levels. */
static unsigned clean_dir(int cache_fd, const char *dir, int depth)
{
	int dfd = *dir ? openat(cache_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
	               : dup(cache_fd);
	if (dfd < 0)
		return 0;
	int lfd = dup(dfd);
	DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (!d) {
		if (lfd >= 0)
			close(lfd);
		close(dfd);
		return 0;
	}
	unsigned removed = 0;
	char **subs = NULL;
	size_t nsubs = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (clean_one(dfd, e->d_name)) {
			removed++;
			continue;
		}
		/* the trees are images' root filesystems: not the cache's files */
		struct stat st;
		bool is_dir =
		    e->d_type == DT_DIR ||
		    (e->d_type == DT_UNKNOWN &&
		     fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
		if (depth > 0 && is_dir && strcmp(dir, "trees") &&
		    !atomic_is_temp_name(e->d_name)) {
			subs = xrealloc(subs, (nsubs + 1) * sizeof(*subs));
			subs[nsubs++] =
			    *dir ? xasprintf("%s/%s", dir, e->d_name) : xstrdup(e->d_name);
		}
	}
	closedir(d);
	close(dfd);
	for (size_t i = 0; i < nsubs; i++) {
		removed += clean_dir(cache_fd, subs[i], depth - 1);
		free(subs[i]);
	}
	free(subs);
	return removed;
}

unsigned cache_clean_temps(const char *cache_dir)
{
	int fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	unsigned removed = clean_dir(fd, "", 3);
	close(fd);
	return removed;
}
