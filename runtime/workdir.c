/*
 * workdir: what killed applies left in a work directory (see workdir.h).
 */
#include "workdir.h"

#include "arena.h"
#include "ns.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- runs and their kilns ------------------------------------------------------------ */

/* When process pid started, in seconds since the epoch; 0 when unknown. */
static double process_start(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* after the command's name (in parentheses, which may hold anything): the state is
	   field 3, the start time (clock ticks after boot) field 22 */
	const char *p = strrchr(buf, ')');
	unsigned long long ticks = 0;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return 0;
	f = fopen("/proc/stat", "re");
	unsigned long long btime = 0;
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	if (f)
		fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	if (!btime || hz <= 0)
		return 0;
	return (double)btime + (double)ticks / (double)hz;
}

pid_t workdir_run_pid(const char *run_dir)
{
	char *pidfile = xasprintf("%s/pid", run_dir);
	FILE *f = fopen(pidfile, "re");
	free(pidfile);
	long pid = 0;
	struct stat sb;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1 || fstat(fileno(f), &sb) < 0)
			pid = 0;
		fclose(f);
	}
	if (pid <= 0 || pid > INT_MAX || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return 0;
	/* a process that started after the file was written is not the kiln that wrote it
	   (its pid was used again); the boot time is known to the second */
	double started = process_start(pid);
	if (started > 0 && started > (double)sb.st_mtim.tv_sec + 2)
		return 0;
	return (pid_t)pid;
}

/* ---- mounts left behind ---------------------------------------------------------------- */

/* A mount point of /proc/self/mountinfo as written there (\ooo for space, tab, newline and
   backslash) made plain, in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

/* Whether mount point m, strictly under base, is a live kiln's (in the run own, or in a
   run whose kiln still runs). */
static bool live_mount(const char *base, const char *own, const char *m)
{
	const char *rel = m + strlen(base) + 1;
	size_t n = strcspn(rel, "/");
	char *run = xasprintf("%s/%.*s", base, (int)n, rel);
	bool live =
	    (own && !strcmp(run, own)) || (!strncmp(rel, "apply-", 6) && workdir_run_pid(run) != 0);
	free(run);
	return live;
}

static int longer_first(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
	return la < lb ? 1 : la > lb ? -1 : strcmp(*(char *const *)a, *(char *const *)b);
}

/* Detach the mounts strictly under base of this process's namespace that no live kiln
   owns, the deepest first; each one detached is a line of *out (detach false: each one
   found, nothing detached). */
static void detach_under(const char *base, const char *own, bool detach, struct strbuf *out)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char **v = NULL, *line = NULL;
	size_t n = 0, cap = 0, blen = strlen(base);
	while (getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNT-POINT ... */
		char *save = NULL, *m = strtok_r(line, " ", &save);
		for (int i = 0; m && i < 4; i++)
			m = strtok_r(NULL, " ", &save);
		if (!m)
			continue;
		unescape(m);
		if (strncmp(m, base, blen) || m[blen] != '/' || !m[blen + 1] ||
		    live_mount(base, own, m))
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrdup(m);
	}
	free(line);
	fclose(f);
	if (n)
		qsort(v, n, sizeof(*v), longer_first);
	for (size_t i = 0; i < n; i++) {
		/* a mount under one detached before went with it (EINVAL) */
		if (!detach || umount2(v[i], MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			sb_addf(out, "%s\n", v[i]);
		free(v[i]);
	}
	free(v);
}

/* The same in the build machine's namespace, which kiln left (ns_private_mounts), from a
   child process that enters it (a process with threads cannot). */
static void detach_in_host(const char *base, const char *own, struct events *ev, struct strbuf *out)
{
	int host = ns_host_mounts();
	int p[2];
	if (host < 0 || pipe2(p, O_CLOEXEC) < 0)
		return;
	events_hold(ev); /* the status thread holds no lock the child would inherit */
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		struct strbuf sb = STRBUF_INIT;
		if (setns(host, CLONE_NEWNS) == 0)
			detach_under(base, own, true, &sb);
		size_t off = 0;
		while (off < sb.len) {
			ssize_t k = write(p[1], sb.buf + off, sb.len - off);
			if (k <= 0)
				break;
			off += (size_t)k;
		}
		_exit(0);
	}
	events_release(ev);
	close(p[1]);
	if (pid > 0) {
		char buf[4096];
		ssize_t k;
		while ((k = read(p[0], buf, sizeof(buf))) != 0) {
			if (k > 0)
				sb_add(out, buf, (size_t)k);
			else if (errno != EINTR)
				break;
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	close(p[0]);
}

/* ---- dead runs ----------------------------------------------------------------------------- */

/* The id of the mount that path at dfd is on, or 0 when statx cannot tell. */
static unsigned long long mount_id(int dfd, const char *name)
{
	struct statx sx;
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0 ||
	    !(sx.stx_mask & STATX_MNT_ID))
		return 0;
	return sx.stx_mnt_id;
}

/* rm -rf name at dfd: never following a symlink, never leaving the mount the tree is on
   (mnt, or dev where the mount id is unknown); a directory that cannot be read or written
   (the mode 000 work/work overlayfs leaves) is opened up first. */
static void rm_at(int dfd, const char *name, unsigned long long mnt, dev_t dev, int depth)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(dfd, name, 0);
		return;
	}
	unsigned long long id = mnt ? mount_id(dfd, name) : 0;
	if (st.st_dev != dev || (mnt && id && id != mnt) || depth > 512)
		return; /* another mount (or absurdly deep): left alone */
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(dfd, name, 0700, 0) == 0)
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		if ((st.st_mode & 0700) != 0700)
			(void)fchmod(fd, 0700); /* its entries can be removed */
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
		} else {
			struct dirent *e;
			while ((e = readdir(d)))
				if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
					rm_at(dirfd(d), e->d_name, mnt, dev, depth + 1);
			closedir(d);
		}
	}
	unlinkat(dfd, name, AT_REMOVEDIR);
}

/* ---- the whole ------------------------------------------------------------------------------ */

void workdir_clean(const char *base, const char *own, struct events *ev)
{
	char *real = realpath(base, NULL);
	char *own_real = own ? realpath(own, NULL) : NULL;
	if (!real)
		return;
	if (strcmp(real, "/")) {
		struct strbuf seen = STRBUF_INIT, gone = STRBUF_INIT, mine = STRBUF_INIT;
		/* kiln's namespace began as a copy of the build machine's: what is not here was
		   not there either, and no child need enter it (the usual case) */
		detach_under(real, own_real, false, &seen);
		if (seen.len) {
			detach_in_host(real, own_real, ev, &gone);
			/* kiln's own copies of them (or, outside a namespace of its own, the
			   mounts) */
			detach_under(real, own_real, true, &mine);
		}
		sb_release(&seen);
		if (!gone.len)
			sb_add(&gone, mine.buf ? mine.buf : "", mine.len);
		size_t count = 0;
		for (size_t i = 0; i < gone.len; i++)
			count += gone.buf[i] == '\n';
		if (count) {
			/* one line: the mount points, a space between */
			for (size_t i = 0; i + 1 < gone.len; i++)
				if (gone.buf[i] == '\n')
					gone.buf[i] = ' ';
			gone.buf[gone.len - 1] = 0;
			events_note(
			    ev, "apply",
			    "detached %zu mount%s an earlier kiln left under the work directory "
			    "%s: %s",
			    count, count == 1 ? "" : "s", real, gone.buf);
		}
		sb_release(&gone);
		sb_release(&mine);
	}
	int dfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d && dfd >= 0)
		close(dfd);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "apply-", 6))
			continue;
		char *run = xasprintf("%s/%s", real, e->d_name);
		struct stat st;
		if ((!own_real || strcmp(run, own_real)) && !workdir_run_pid(run) &&
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode)) {
			rm_at(dirfd(d), e->d_name, mount_id(dirfd(d), e->d_name), st.st_dev, 0);
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				events_note(
				    ev, "apply",
				    "cannot remove all of %s, left by an apply whose kiln is "
				    "gone (a mount under it?): remove it by hand",
				    run);
		}
		free(run);
	}
	if (d)
		closedir(d);
	free(own_real);
	free(real);
}
