/*
 * base_busybox: busybox() -> the smallest root filesystem that runs: Debian's
 * static busybox (package busybox-static) copied to /bin/busybox, a symlink
 * for every applet it lists (`busybox --list-full`), root in /etc/passwd and
 * /etc/group, an /etc/os-release with ID=busybox, and the directories a
 * connection mounts on (/dev, /proc, /sys) or expects (/tmp 1777, /root).
 * Everything is made relative to the destination's fd; it takes milliseconds.
 */
#include "base_int.h"

#include "atomic.h"

#include "arena.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSYBOX "/bin/busybox"
#define PACKAGE_HINT "install Debian's busybox-static package (apt-get install busybox-static)"

/* Is the ELF file fd statically linked (no PT_INTERP)? 1 yes, 0 no, < 0 not ELF. */
static int is_static_elf(int fd)
{
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (eh.e_ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr e32;
		if (pread(fd, &e32, sizeof(e32), 0) != (ssize_t)sizeof(e32))
			return -ENOEXEC;
		for (unsigned i = 0; i < e32.e_phnum; i++) {
			Elf32_Phdr ph;
			off_t off = (off_t)e32.e_phoff + (off_t)i * e32.e_phentsize;
			if (pread(fd, &ph, sizeof(ph), off) != (ssize_t)sizeof(ph))
				return -ENOEXEC;
			if (ph.p_type == PT_INTERP)
				return 0;
		}
		return 1;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		off_t off = (off_t)eh.e_phoff + (off_t)i * eh.e_phentsize;
		if (pread(fd, &ph, sizeof(ph), off) != (ssize_t)sizeof(ph))
			return -ENOEXEC;
		if (ph.p_type == PT_INTERP)
			return 0;
	}
	return 1;
}

/* mkdir -p of a relative path below dfd, with mode for the last one. */
static int mkdirs_at(struct base_run *b, const char *rel, mode_t mode)
{
	char buf[256];
	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf))
		return rt_error_set(b->err, -ENAMETOOLONG, "busybox(): path too long: %s", rel);
	for (char *s = buf;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		bool last = c == '\0';
		if (mkdirat(b->dest_fd, buf, 0755) < 0 && errno != EEXIST)
			return rt_error_errno(b->err, -errno, "busybox(): cannot make /%s", buf);
		if (fchmodat(b->dest_fd, buf, last ? mode : 0755, 0) < 0)
			return rt_error_errno(b->err, -errno, "busybox(): cannot chmod /%s", buf);
		if (last)
			return 0;
		*s = c;
	}
}

static int write_file(struct base_run *b, const char *rel, const char *text, mode_t mode)
{
	int fd =
	    openat(b->dest_fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return rt_error_errno(b->err, -errno, "busybox(): cannot create /%s", rel);
	size_t len = strlen(text);
	int r = 0;
	if ((r = fd_write_all(fd, text, len)) < 0)
		rt_error_errno(b->err, r, "busybox(): cannot write /%s", rel);
	else if (fchmod(fd, mode) < 0)
		r = rt_error_errno(b->err, -errno, "busybox(): cannot chmod /%s", rel);
	close(fd);
	return r;
}

static int copy_binary(struct base_run *b, int src, off_t size)
{
	int fd = openat(b->dest_fd, "bin/busybox",
	                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755);
	if (fd < 0)
		return rt_error_errno(b->err, -errno, "busybox(): cannot create /bin/busybox");
	int r = 0;
	off_t off = 0;
	while (off < size) {
		ssize_t n = sendfile(fd, src, &off, (size_t)(size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = rt_error_errno(b->err, n < 0 ? -errno : -EIO,
			                   "busybox(): cannot copy " BUSYBOX);
			break;
		}
	}
	if (r == 0 && fchmod(fd, 0755) < 0)
		r = rt_error_errno(b->err, -errno, "busybox(): cannot chmod /bin/busybox");
	close(fd);
	return r;
}

/* One line of --list-full ("usr/bin/awk"): its symlink to /bin/busybox. */
static int applet_link(struct base_run *b, const char *rel)
{
	if (!rel[0] || rel[0] == '/' || strstr(rel, "..") || !strcmp(rel, "bin/busybox"))
		return 0;
	const char *slash = strrchr(rel, '/');
	if (slash) {
		char dir[256];
		size_t n = (size_t)(slash - rel);
		if (n >= sizeof(dir))
			return 0;
		memcpy(dir, rel, n);
		dir[n] = '\0';
		int r = mkdirs_at(b, dir, 0755);
		if (r < 0)
			return r;
	}
	if (symlinkat(BUSYBOX, b->dest_fd, rel) < 0 && errno != EEXIST)
		return rt_error_errno(b->err, -errno, "busybox(): cannot link /%s", rel);
	return 0;
}

/* "BusyBox v1.35.0 (Debian ...) multi-call binary." -> "1.35.0" */
static void busybox_version(char *out, size_t size)
{
	static const char *const argv[] = {BUSYBOX, NULL};
	char *text = NULL;
	struct rt_error e;
	snprintf(out, size, "unknown");
	if (base_capture(argv, &text, &e) < 0)
		return;
	const char *v = strstr(text, "BusyBox v");
	if (v) {
		v += strlen("BusyBox v");
		size_t n = strcspn(v, " \n");
		if (n && n < size)
			snprintf(out, size, "%.*s", (int)n, v);
	}
	free(text);
}

int base_busybox(struct base_run *b)
{
	int src = open(BUSYBOX, O_RDONLY | O_CLOEXEC);
	if (src < 0) {
		if (errno == ENOENT)
			return rt_error_set(b->err, -ENOENT,
			                    "busybox(): " BUSYBOX " not found: " PACKAGE_HINT);
		return rt_error_errno(b->err, -errno, "busybox(): cannot open " BUSYBOX);
	}
	struct stat st;
	int r = fstat(src, &st) < 0 ? -errno : 0;
	if (r == 0 && !S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r < 0) {
		close(src);
		return rt_error_set(b->err, r, "busybox(): " BUSYBOX " is not a regular file");
	}
	int stat_elf = is_static_elf(src);
	if (stat_elf <= 0) {
		close(src);
		return rt_error_set(b->err, -ENOEXEC,
		                    "busybox(): " BUSYBOX " is %s, so it cannot run in an empty "
		                    "root: " PACKAGE_HINT,
		                    stat_elf == 0 ? "dynamically linked (Debian's busybox package)"
		                                  : "not an ELF program");
	}

	static const char *const list_argv[] = {BUSYBOX, "--list-full", NULL};
	char *list = NULL;
	int status = base_capture(list_argv, &list, b->err);
	if (status != 0) {
		close(src);
		free(list);
		if (status < 0)
			return status;
		return rt_error_set(b->err, -EIO,
		                    "busybox(): '" BUSYBOX " --list-full' exited with status %d",
		                    status);
	}

	static const struct {
		const char *path;
		mode_t mode;
	} dirs[] = {
	    {"bin", 0755},  {"sbin", 0755},    {"usr/bin", 0755}, {"usr/sbin", 0755},
	    {"etc", 0755},  {"dev", 0755},     {"proc", 0555},    {"sys", 0555},
	    {"tmp", 01777}, {"root", 0700},    {"run", 0755},     {"var/tmp", 01777},
	    {"home", 0755}, {"var/log", 0755},
	};
	if (fchmod(b->dest_fd, 0755) < 0)
		r = rt_error_errno(b->err, -errno, "busybox(): cannot chmod the root");
	for (size_t i = 0; r == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		r = mkdirs_at(b, dirs[i].path, dirs[i].mode);
	if (r == 0)
		r = copy_binary(b, src, st.st_size);
	close(src);

	size_t napplets = 0;
	for (char *line = list; r == 0 && line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		r = applet_link(b, line);
		napplets++;
		line = nl ? nl + 1 : NULL;
	}
	free(list);
	if (r < 0)
		return r;

	char version[64], os_release[512];
	busybox_version(version, sizeof(version));
	snprintf(os_release, sizeof(os_release),
	         "NAME=\"BusyBox\"\n"
	         "ID=busybox\n"
	         "VERSION_ID=\"%s\"\n"
	         "PRETTY_NAME=\"BusyBox %s (kiln busybox base)\"\n"
	         "HOME_URL=\"https://busybox.net/\"\n",
	         version, version);
	static const struct {
		const char *path;
		const char *text;
		mode_t mode;
	} files[] = {
	    {"etc/passwd",
	     "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
	     0644},
	    {"etc/group", "root:x:0:\nnogroup:x:65534:\n", 0644},
	    {"etc/shadow", "root:*:::::::\nnobody:*:::::::\n", 0640},
	    {"etc/hostname", "localhost\n", 0644},
	    {"etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
	     0644},
	    /* a placeholder the rootfs connection mounts the build machine's over */
	    {"etc/resolv.conf", "", 0644},
	};
	for (size_t i = 0; r == 0 && i < sizeof(files) / sizeof(files[0]); i++)
		r = write_file(b, files[i].path, files[i].text, files[i].mode);
	if (r == 0)
		r = write_file(b, "etc/os-release", os_release, 0644);
	if (r == 0)
		base_progress(b, "busybox %s with %zu applets", version, napplets);
	return r;
}

const struct base_impl base_busybox_impl = {"busybox", base_busybox};
