/*
 * base_debian: debian(suite, variant, mirror, components, include) -> a
 * Debian root filesystem made by debootstrap, cached.
 *
 * Cache (under CACHE/debian/): the finished tree as KEY.tar.zst (pax, numeric
 * owners) with KEY.json (the arguments and the tarball's SHA-256), where KEY
 * is the SHA-256 of the canonical JSON of the arguments with defaults filled
 * in, the mirror actually used and the architecture. Both are written under
 * temporary names and renamed into place. A hit extracts the tarball (checked
 * against its recorded digest) and never runs debootstrap; a damaged entry is
 * dropped and rebuilt. debootstrap keeps the .debs it downloads in
 * CACHE/debian/debs (--cache-dir), shared by all entries, under a lock; the
 * tree is then cleaned of what varies between builds or belongs to the build
 * machine (normalise_tree).
 *
 * debootstrap runs in its own process group and a private mount namespace:
 * the /proc and /sys it mounts inside the target during its second stage
 * exist only there, and the kernel drops them when its last process ends,
 * whether it succeeds, fails or is killed; nothing stays mounted on the
 * build machine. On failure or interrupt the group is killed, the log is
 * kept in CACHE/debian/KEY.failed.log, the error shows its tail and base.c
 * empties the destination.
 */
#include "base_int.h"

#include "atomic.h"

#include "arena.h"
#include "extract.h"
#include "hex.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MIRROR "http://deb.debian.org/debian"
#define CACHE_FORMAT 1 /* bump when the cached tree's shape changes */
#define TAIL_LINES 12  /* debootstrap output kept for the error */
#define TERM_GRACE_MS 5000

extern char **environ;

struct args {
	const char *suite, *variant, *mirror;
	json_t *components, *include; /* owned */
	char *mirror_owned;
	char arch[32];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the build machine's mirror ------------------------------------------ */

/* "http://deb.debian.org/debian/" -> true: a Debian archive root. */
static bool is_debian_archive(const char *uri, size_t len)
{
	if (!(len > 7 && (!strncmp(uri, "http://", 7) || !strncmp(uri, "https://", 8) ||
	                  !strncmp(uri, "ftp://", 6) || !strncmp(uri, "file:/", 6))))
		return false;
	while (len && uri[len - 1] == '/')
		len--;
	return len >= 7 && !strncmp(uri + len - 7, "/debian", 7);
}

static char *take_uri(const char *uri, size_t len)
{
	while (len && uri[len - 1] == '/')
		len--;
	return xstrndup(uri, len);
}

/* One-line format: "deb [opts] URI suite comp...". */
static char *from_list(FILE *f)
{
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		if (strncmp(p, "deb", 3) || (p[3] != ' ' && p[3] != '\t'))
			continue;
		p += 3 + strspn(p + 3, " \t");
		if (*p == '[') {
			char *end = strchr(p, ']');
			if (!end)
				continue;
			p = end + 1 + strspn(end + 1, " \t");
		}
		size_t n = strcspn(p, " \t\r\n");
		if (is_debian_archive(p, n))
			return take_uri(p, n);
	}
	return NULL;
}

/* deb822 format: paragraphs with Types: and URIs: (and maybe Enabled: no). */
static char *from_sources(FILE *f)
{
	char line[4096], uris[4096] = "";
	bool deb = false, enabled = true, eof = false;
	while (!eof) {
		eof = !fgets(line, sizeof(line), f);
		char *p = eof ? line : line + strspn(line, " \t");
		if (eof || *p == '\n' || *p == '\r' || *p == '\0') {
			/* end of a paragraph */
			if (deb && enabled) {
				for (char *u = uris; *u;) {
					u += strspn(u, " \t\r\n");
					size_t n = strcspn(u, " \t\r\n");
					if (n && is_debian_archive(u, n))
						return take_uri(u, n);
					u += n;
				}
			}
			deb = false;
			enabled = true;
			uris[0] = '\0';
			continue;
		}
		if (*p == '#')
			continue;
		if (!strncasecmp(p, "Types:", 6)) {
			for (char *t = p + 6; *t;) {
				t += strspn(t, " \t\r\n");
				size_t n = strcspn(t, " \t\r\n");
				deb |= n == 3 && !strncmp(t, "deb", 3);
				t += n;
			}
		} else if (!strncasecmp(p, "URIs:", 5)) {
			snprintf(uris, sizeof(uris), "%s", p + 5);
		} else if (!strncasecmp(p, "Enabled:", 8)) {
			const char *v = p + 8 + strspn(p + 8, " \t");
			enabled = strncasecmp(v, "no", 2) != 0;
		}
	}
	return NULL;
}

static char *from_file(const char *path, bool deb822)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *uri = deb822 ? from_sources(f) : from_list(f);
	fclose(f);
	return uri;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *base_debian_default_mirror(const char *apt_dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/sources.list", apt_dir);
	char *uri = from_file(path, false);
	if (uri)
		return uri;
	snprintf(path, sizeof(path), "%s/sources.list.d", apt_dir);
	DIR *d = opendir(path);
	if (!d)
		return NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		bool list = len > 5 && !strcmp(de->d_name + len - 5, ".list");
		bool sources = len > 8 && !strcmp(de->d_name + len - 8, ".sources");
		if (!list && !sources)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!uri) {
			size_t len = strlen(names[i]);
			snprintf(path, sizeof(path), "%s/sources.list.d/%s", apt_dir, names[i]);
			uri = from_file(path, len > 8 && !strcmp(names[i] + len - 8, ".sources"));
		}
		free(names[i]);
	}
	free(names);
	return uri;
}

/* ---- arguments and the cache key ----------------------------------------- */

/* Words that go on debootstrap's command line: no options, no spaces. */
static bool is_word(const char *s, const char *extra)
{
	if (!s[0] || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return false;
	return true;
}

static int get_args(struct base_run *b, struct args *a)
{
	int r = base_arg_string(b, "suite", "bookworm", &a->suite);
	if (r == 0)
		r = base_arg_string(b, "variant", "minbase", &a->variant);
	if (r == 0)
		r = base_arg_string(b, "mirror", NULL, &a->mirror);
	if (r == 0)
		r = base_arg_strings(b, "components", &a->components);
	if (r == 0)
		r = base_arg_strings(b, "include", &a->include);
	if (r < 0)
		return r;
	if (!json_array_size(a->components))
		json_array_append_new(a->components, json_string("main"));
	if (!is_word(a->suite, ".-"))
		return rt_error_set(b->err, -EINVAL, "debian(): invalid suite '%s'", a->suite);
	if (strcmp(a->variant, "minbase") && strcmp(a->variant, "buildd") &&
	    strcmp(a->variant, "standard"))
		return rt_error_set(
		    b->err, -EINVAL,
		    "debian(): variant must be minbase, buildd or standard, not '%s'", a->variant);
	size_t i;
	json_t *v;
	json_array_foreach (a->components, i, v) {
		if (!is_word(json_string_value(v), "-"))
			return rt_error_set(b->err, -EINVAL, "debian(): invalid component '%s'",
			                    json_string_value(v));
	}
	json_array_foreach (a->include, i, v) {
		if (!is_word(json_string_value(v), "+-.:"))
			return rt_error_set(b->err, -EINVAL, "debian(): invalid package name '%s'",
			                    json_string_value(v));
	}
	if (!a->mirror) {
		a->mirror_owned = base_debian_default_mirror("/etc/apt");
		a->mirror = a->mirror_owned ? a->mirror_owned : DEFAULT_MIRROR;
	}
	if (strncmp(a->mirror, "http://", 7) && strncmp(a->mirror, "https://", 8) &&
	    strncmp(a->mirror, "file:/", 6))
		return rt_error_set(b->err, -EINVAL,
		                    "debian(): mirror '%s' is not an http, https or file URL",
		                    a->mirror);
	if (strpbrk(a->mirror, " \t\n'\"\\"))
		return rt_error_set(b->err, -EINVAL, "debian(): invalid mirror '%s'", a->mirror);

	static const char *const dpkg[] = {"dpkg", "--print-architecture", NULL};
	char *out = NULL;
	struct rt_error e;
	int status = base_capture(dpkg, &out, &e);
	if (out)
		out[strcspn(out, "\n")] = '\0';
	if (status == 0 && is_word(out, "-") && strlen(out) < sizeof(a->arch))
		snprintf(a->arch, sizeof(a->arch), "%s", out);
	else
		snprintf(a->arch, sizeof(a->arch), "%s", "amd64");
	free(out);
	return 0;
}

/* The canonical JSON of what decides the tree (sorted keys, no spaces). */
static char *canonical(const struct args *a)
{
	json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:O, s:O}", "format", CACHE_FORMAT, "arch",
	                      a->arch, "suite", a->suite, "variant", a->variant, "mirror",
	                      a->mirror, "components", a->components, "include", a->include);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* ---- running debootstrap --------------------------------------------------- */

/* debootstrap's place in PATH (or /usr/sbin, /sbin, where Debian puts it). */
static char *find_debootstrap(void)
{
	const char *path = getenv("PATH");
	char *dirs = xasprintf("%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	char *found = NULL, *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/debootstrap", d);
		if (d[0] == '/' && access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(dirs);
	return found;
}

struct tail {
	char lines[TAIL_LINES][256];
	size_t n; /* lines seen */
	char partial[256];
	size_t plen;
};

static void tail_line(struct base_run *b, struct tail *t, const char *line)
{
	snprintf(t->lines[t->n % TAIL_LINES], sizeof(t->lines[0]), "%s", line);
	t->n++;
	/* Phases, not every package. */
	static const char *const quiet[] = {"I: Retrieving ", "I: Validating ",  "I: Extracting ",
	                                    "I: Unpacking ",  "I: Configuring ", NULL};
	if (strncmp(line, "I: ", 3) && strncmp(line, "W: ", 3) && strncmp(line, "E: ", 3))
		return;
	for (const char *const *q = quiet; *q; q++)
		if (!strncmp(line, *q, strlen(*q)) && !strstr(line, "Release") &&
		    !strstr(line, "Packages"))
			return;
	base_progress(b, "%s", line);
}

static void tail_feed(struct base_run *b, struct tail *t, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			t->partial[t->plen] = '\0';
			if (t->plen)
				tail_line(b, t, t->partial);
			t->plen = 0;
		} else if (t->plen < sizeof(t->partial) - 1) {
			t->partial[t->plen++] = buf[i];
		}
	}
}

/* The environment debootstrap gets: ours, with a PATH that has sbin, LC_ALL=C. */
static char **child_env(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = xcalloc(n + 4, sizeof(*env));
	size_t k = 0;
	const char *path = getenv("PATH");
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "PATH=", 5) && strncmp(environ[i], "LC_ALL=", 7) &&
		    strncmp(environ[i], "DEBIAN_FRONTEND=", 16))
			env[k++] = xstrdup(environ[i]);
	env[k++] =
	    xasprintf("PATH=%s:/usr/sbin:/usr/bin:/sbin:/bin", path ? path : "/usr/local/bin");
	env[k++] = xstrdup("LC_ALL=C");
	env[k++] = xstrdup("DEBIAN_FRONTEND=noninteractive");
	return env;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char *join_list(json_t *list)
{
	size_t i;
	json_t *v;
	size_t len = 1;
	json_array_foreach (list, i, v)
		len += strlen(json_string_value(v)) + 1;
	char *s = xcalloc(1, len);
	json_array_foreach (list, i, v) {
		if (i)
			strcat(s, ",");
		strcat(s, json_string_value(v));
	}
	return s;
}

/* In the child: never returns. Only async-signal-safe calls. */
static void child(const char *prog, char **argv, char **env, int out_fd)
{
	static const char msg[] = "kiln: cannot make a private mount namespace for debootstrap\n";
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0)
		dup2(null, 0);
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(126);
	}
	execve(prog, argv, env);
	_exit(127);
}

/*
 * Run debootstrap into b->dest; its output's last lines into *t. Returns its
 * exit status (0-255 or 128+signal), or < 0 (-EINTR when interrupted).
 */
static int run_debootstrap(struct base_run *b, const struct args *a, const char *debs,
                           struct tail *t, FILE *log)
{
	char *prog = find_debootstrap();
	if (!prog)
		return rt_error_set(b->err, -ENOENT,
		                    "debian(): debootstrap not found: install Debian's debootstrap "
		                    "package (apt-get install debootstrap)");
	char *variant = xasprintf("--variant=%s", a->variant);
	char *comps = join_list(a->components);
	char *comps_opt = xasprintf("--components=%s", comps);
	char *incl = join_list(a->include);
	char *incl_opt = xasprintf("--include=%s", incl);
	/* debootstrap wants an absolute --cache-dir; --cache-dir=DIR may be relative. */
	char cwd[4096];
	char *cache_opt = debs[0] == '/' || !getcwd(cwd, sizeof(cwd))
	                      ? xasprintf("--cache-dir=%s", debs)
	                      : xasprintf("--cache-dir=%s/%s", cwd, debs);
	char *arch_opt = xasprintf("--arch=%s", a->arch);
	const char *argv[12];
	size_t k = 0;
	argv[k++] = "debootstrap";
	if (strcmp(a->variant, "standard"))
		argv[k++] = variant;
	argv[k++] = comps_opt;
	if (incl[0])
		argv[k++] = incl_opt;
	argv[k++] = cache_opt;
	argv[k++] = arch_opt;
	argv[k++] = a->suite;
	argv[k++] = b->dest;
	argv[k++] = a->mirror;
	argv[k] = NULL;
	char **env = child_env();

	int r = 0, pfd[2] = {-1, -1}, pidfd = -1;
	pid_t pid = -1;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = rt_error_errno(b->err, -errno, "debian(): pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = rt_error_errno(b->err, -errno, "debian(): fork");
		goto out;
	}
	if (pid == 0)
		child(prog, (char **)argv, env, pfd[1]);
	setpgid(pid, pid); /* also in the child: whichever runs first */
	close(pfd[1]);
	pfd[1] = -1;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	/* Read its output until it exits; stop it when kiln is interrupted. */
	bool out_open = true, exited = false;
	double term_at = 0;
	while (!exited) {
		struct pollfd p[2] = {{pfd[0], POLLIN, 0}, {pidfd, POLLIN, 0}};
		int timeout = term_at ? 200 : (pidfd < 0 ? 200 : 1000);
		int n = poll(out_open ? p : p + 1, out_open ? 2 : 1, timeout);
		if (n < 0 && errno != EINTR) {
			r = rt_error_errno(b->err, -errno, "debian(): poll");
			break;
		}
		if (out_open && n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[4096];
			ssize_t got = read(pfd[0], buf, sizeof(buf));
			if (got > 0) {
				tail_feed(b, t, buf, (size_t)got);
				if (log)
					fwrite(buf, 1, (size_t)got, log);
			} else if (got == 0 || errno != EINTR) {
				out_open = false;
			}
		}
		if (rt_interrupted && !term_at) {
			kill(-pid, SIGTERM);
			term_at = now_s();
		} else if (term_at && now_s() - term_at > TERM_GRACE_MS / 1000.0) {
			kill(-pid, SIGKILL);
		}
		siginfo_t si = {0};
		/* WNOWAIT: the group's id stays ours until the leftovers are killed. */
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
			exited = true;
	}
	/* Processes debootstrap left behind go with it (its mounts with them). */
	kill(-pid, SIGKILL);
	/* Its last lines may still be in the pipe. */
	if (out_open && fcntl(pfd[0], F_SETFL, O_NONBLOCK) == 0) {
		char buf[4096];
		ssize_t got;
		while ((got = read(pfd[0], buf, sizeof(buf))) > 0) {
			tail_feed(b, t, buf, (size_t)got);
			if (log)
				fwrite(buf, 1, (size_t)got, log);
		}
	}
	tail_feed(b, t, "\n", 1); /* a last line without a newline */
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && rt_interrupted)
		r = rt_error_set(b->err, -EINTR, "debian(): interrupted; debootstrap stopped");
	else if (r == 0)
		r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (pidfd >= 0)
		close(pidfd);
	free_strv(env);
	free(prog);
	free(variant);
	free(comps);
	free(comps_opt);
	free(incl);
	free(incl_opt);
	free(cache_opt);
	free(arch_opt);
	return r;
}

/* The error for a failed debootstrap: its status and the tail of its output and log. */
static int report_failure(struct base_run *b, int status, const struct tail *t,
                          const char *log_path)
{
	char text[700] = "";
	size_t len = 0;
	/* debootstrap's own log in the target says more than its output. */
	char lpath[4096];
	snprintf(lpath, sizeof(lpath), "%s/debootstrap/debootstrap.log", b->dest);
	FILE *f = fopen(lpath, "re");
	char dlog[TAIL_LINES / 2][256];
	size_t dn = 0;
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0])
				snprintf(dlog[dn++ % (TAIL_LINES / 2)], sizeof(dlog[0]), "%s",
				         line);
		}
		fclose(f);
	}
	/* Newest lines win the room: collect from the end, output last. */
	const char *pick[TAIL_LINES + TAIL_LINES / 2];
	size_t np = 0, room = sizeof(text) - 1;
	size_t tn = t->n < TAIL_LINES ? t->n : TAIL_LINES;
	for (size_t i = 0; i < tn && np < TAIL_LINES; i++) {
		const char *l = t->lines[(t->n - 1 - i) % TAIL_LINES];
		if (strlen(l) + 3 > room)
			break;
		room -= strlen(l) + 3;
		pick[np++] = l;
	}
	size_t dk = dn < TAIL_LINES / 2 ? dn : TAIL_LINES / 2;
	size_t nout = np;
	for (size_t i = 0; i < dk; i++) {
		const char *l = dlog[(dn - 1 - i) % (TAIL_LINES / 2)];
		if (strlen(l) + 3 > room)
			break;
		room -= strlen(l) + 3;
		pick[np++] = l;
	}
	for (size_t i = np; i-- > nout;)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "\n  %s", pick[i]);
	for (size_t i = nout; i-- > 0;)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "\n  %s", pick[i]);
	return rt_error_set(b->err, -EIO, "debian(): debootstrap failed (status %d; log: %s):%s",
	                    status, log_path, text[0] ? text : " no output");
}

/* ---- the cached tree ----------------------------------------------------- */

/*
 * What the tree must not carry: anything of the build machine, anything that differs
 * between two debootstraps from one mirror, anything a container runtime provides. As
 * Debian's own container images (debuerreotype) do: the .debs debootstrap installed (kept
 * in CACHE/debian/debs instead) and apt's binary caches; dpkg's, apt's, alternatives' and
 * debootstrap's logs; ldconfig's aux-cache; debconf's and dpkg's *-old backups; apt's
 * package lists (an apt task updates them when they are missing: stdlib/mod_apt.c); the
 * build machine's resolv.conf (a runtime binds its own) and hostname ("localhost");
 * machine-id emptied (systemd makes one at first boot); the device nodes under /dev (a
 * runtime creates them). apt is configured as in Debian's images (their docker-clean):
 * after every dpkg run and update, the downloaded .debs and the binary caches go, so no
 * later layer holds them either. Run after debootstrap and after a cache hit, so a tree
 * cached by an older kiln comes out the same.
 */
static const char apt_clean_conf[] =
    "// kiln: as Debian's container images (docker-clean): no downloaded .debs and no\n"
    "// binary caches are left in the image after apt runs.\n"
    "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb "
    "/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };\n"
    "APT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb "
    "/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };\n"
    "Dir::Cache::pkgcache \"\";\n"
    "Dir::Cache::srcpkgcache \"\";\n";

/* dir (relative to the tree) opened in it, never through a symlink; -1 when absent. */
static int open_in_tree(const struct base_run *b, const char *dir)
{
	struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS};
	long fd = syscall(SYS_openat2, b->dest_fd, dir, &how, sizeof(how));
	return fd < 0 ? -1 : (int)fd;
}

enum { DROP_FILES = 1, DROP_NODES = 2, DROP_LINKS = 4 };

/* Remove the entries of dir whose name matches pattern and whose type what names (files,
   links, device nodes and FIFOs; into subdirectories for nodes); their number. */
static size_t drop_in(const struct base_run *b, int dfd, const char *pattern, int what)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fnmatch(pattern, de->d_name, FNM_PERIOD) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		bool node = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode);
		if (S_ISDIR(st.st_mode) && (what & DROP_NODES)) {
			int sub = openat(dirfd(d), de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				n += drop_in(b, sub, "*", DROP_NODES);
				close(sub);
			}
		} else if (((what & DROP_FILES) && S_ISREG(st.st_mode)) ||
		           ((what & DROP_LINKS) && S_ISLNK(st.st_mode)) ||
		           ((what & DROP_NODES) && node)) {
			if (unlinkat(dirfd(d), de->d_name, 0) == 0)
				n++;
		}
	}
	closedir(d);
	return n;
}

/* Replace the content of the regular file path (relative to the tree), if there. */
static void rewrite_in_tree(const struct base_run *b, const char *dir, const char *name,
                            const char *text, bool create)
{
	int dfd = open_in_tree(b, dir);
	if (dfd < 0)
		return;
	struct stat st;
	bool there = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	size_t len = strlen(text);
	if (there && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 &&
	    (size_t)st.st_size == len) {
		/* already so (a tree from the cache): left alone, its time kept */
		char buf[4096];
		int fd =
		    len <= sizeof(buf) ? openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
		ssize_t got = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
		if (fd >= 0)
			close(fd);
		if (got == (ssize_t)len && !memcmp(buf, text, len)) {
			close(dfd);
			return;
		}
	}
	if ((there && S_ISREG(st.st_mode)) || (!there && create)) {
		int fd =
		    openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0) {
			(void)fchmod(fd, 0644); /* whatever the umask */
			(void)fd_write_all(fd, text, strlen(text));
			close(fd);
		}
	}
	close(dfd);
}

static void normalise_tree(const struct base_run *b)
{
	static const struct {
		const char *dir, *pattern;
		int what;
	} drops[] = {
	    {"var/cache/apt/archives", "*.deb", DROP_FILES},
	    {"var/cache/apt/archives/partial", "*", DROP_FILES},
	    {"var/cache/apt", "*.bin", DROP_FILES},
	    {"var/lib/apt/lists", "*", DROP_FILES},
	    {"var/lib/apt/lists/partial", "*", DROP_FILES},
	    {"var/log", "dpkg.log", DROP_FILES},
	    {"var/log", "bootstrap.log", DROP_FILES},
	    {"var/log", "alternatives.log", DROP_FILES},
	    {"var/log/apt", "*", DROP_FILES},
	    {"var/cache/ldconfig", "aux-cache", DROP_FILES},
	    {"var/cache/debconf", "*-old", DROP_FILES},
	    {"var/lib/dpkg", "*-old", DROP_FILES},
	    {"var/lib/dbus", "machine-id", DROP_FILES | DROP_LINKS},
	    {"run/mount", "utab", DROP_FILES},
	    {"etc", "resolv.conf", DROP_FILES | DROP_LINKS},
	    {"dev", "*", DROP_NODES},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
		int dfd = open_in_tree(b, drops[i].dir);
		if (dfd < 0)
			continue;
		size_t k = drop_in(b, dfd, drops[i].pattern, drops[i].what);
		n += k;
		close(dfd);
	}
	rewrite_in_tree(b, "etc", "machine-id", "", false);
	rewrite_in_tree(b, "etc", "hostname", "localhost\n", false);
	rewrite_in_tree(b, "etc/apt/apt.conf.d", "docker-clean", apt_clean_conf, true);
	if (n)
		base_progress(b, "%zu files of the build removed from the tree", n);
}

struct sink {
	int fd;
	EVP_MD_CTX *md;
	uint64_t size;
};

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct sink *s = data;
	const char *p = buf;
	size_t left = len;
	int r = fd_write_all(s->fd, p, left);
	if (r < 0) {
		archive_set_error(a, -r, "write error");
		return -1;
	}
	EVP_DigestUpdate(s->md, buf, len);
	s->size += len;
	return (la_ssize_t)len;
}

/* Write the tree at dir as a pax + zstd archive to fd; its SHA-256 into hex. */
static int store_tree(struct base_run *b, const char *dir, int fd, char hex[65], uint64_t *size)
{
	struct sink s = {.fd = fd, .md = EVP_MD_CTX_new()};
	struct archive *disk = archive_read_disk_new();
	struct archive *w = archive_write_new();
	struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
	int r = 0;
	size_t dlen = strlen(dir);
	char *buf = xmalloc(64 * 1024);
	if (!s.md || !disk || !w || !links || !EVP_DigestInit_ex(s.md, EVP_sha256(), NULL)) {
		r = rt_error_set(b->err, -ENOMEM, "debian(): cannot start the cache archive");
		goto out;
	}
	archive_write_set_format_pax(w);
	archive_write_add_filter_zstd(w);
	(void)archive_write_set_filter_option(w, "zstd", "compression-level", "3");
	archive_write_set_bytes_in_last_block(w, 1);
	archive_entry_linkresolver_set_strategy(links, archive_format(w));
	if (archive_write_open(w, &s, NULL, sink_write, NULL) != ARCHIVE_OK)
		goto lerr_w;
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
	                                         ARCHIVE_READDISK_NO_ACL |
	                                         ARCHIVE_READDISK_NO_FFLAGS);
	if (archive_read_disk_open(disk, dir) != ARCHIVE_OK)
		goto lerr_disk;
	for (;;) {
		struct archive_entry *e = archive_entry_new(), *spare = NULL;
		int h = archive_read_next_header2(disk, e);
		if (h == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
			archive_entry_free(e);
			goto lerr_disk;
		}
		archive_read_disk_descend(disk);
		const char *p = archive_entry_pathname(e);
		const char *rel = strlen(p) > dlen ? p + dlen + 1 : ".";
		archive_entry_copy_pathname(e, rel);
		if (archive_entry_filetype(e) == AE_IFSOCK) {
			archive_entry_free(e);
			continue;
		}
		archive_entry_linkify(links, &e, &spare);
		h = archive_write_header(w, e);
		if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
			archive_entry_free(e);
			goto lerr_w;
		}
		if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) &&
		    archive_entry_size(e) > 0) {
			la_ssize_t n;
			while ((n = archive_read_data(disk, buf, 64 * 1024)) > 0)
				if (archive_write_data(w, buf, (size_t)n) < 0) {
					archive_entry_free(e);
					goto lerr_w;
				}
			if (n < 0) {
				archive_entry_free(e);
				goto lerr_disk;
			}
		}
		archive_entry_free(e);
		archive_entry_free(spare);
	}
	if (archive_write_close(w) != ARCHIVE_OK)
		goto lerr_w;
	unsigned char md[32];
	unsigned n = 32;
	EVP_DigestFinal_ex(s.md, md, &n);
	hex_encode(md, 32, hex);
	*size = s.size;
	goto out;
lerr_w:
	r = rt_error_set(b->err, -EIO, "debian(): cannot write the cache archive: %s",
	                 archive_error_string(w) ? archive_error_string(w) : "error");
	goto out;
lerr_disk:
	r = rt_error_set(b->err, -EIO, "debian(): cannot read the tree: %s",
	                 archive_error_string(disk) ? archive_error_string(disk) : "error");
out:
	free(buf);
	archive_entry_linkresolver_free(links);
	archive_write_free(w);
	archive_read_free(disk);
	EVP_MD_CTX_free(s.md);
	return r;
}

/* Write data to path atomically (base/atomic.h: a temporary beside it, fsync, rename). */
static int write_atomic(struct base_run *b, const char *path, const char *data, size_t len)
{
	struct atomic_file af;
	int r = atomic_file_open(&af, path, 0644, ATOMIC_NO_DIRECT, b->err);
	if (r >= 0 && (r = fd_write_all(af.fd, data, len)) < 0)
		rt_error_errno(b->err, r, "debian(): cannot write '%s'", path);
	if (r >= 0)
		r = atomic_file_commit(&af, b->err);
	atomic_file_abort(&af);
	return r < 0 ? r : 0;
}

static int cache_store(struct base_run *b, const char *tar_path, const char *json_path,
                       const char *canon)
{
	struct atomic_file af;
	int r = atomic_file_open(&af, tar_path, 0644, ATOMIC_NO_DIRECT, b->err);
	if (r < 0) {
		atomic_file_abort(&af);
		return r;
	}
	char hex[65];
	uint64_t size = 0;
	r = store_tree(b, b->dest, af.fd, hex, &size);
	if (r == 0) {
		json_error_t je;
		json_t *meta = json_loads(canon, 0, &je);
		json_t *entry =
		    json_pack("{s:o, s:s, s:I, s:I}", "args", meta, "sha256", hex, "size",
		              (json_int_t)size, "created", (json_int_t)time(NULL));
		char *text = json_dumps(entry, JSON_INDENT(2) | JSON_SORT_KEYS);
		json_decref(entry);
		r = write_atomic(b, json_path, text, strlen(text));
		free(text);
	}
	if (r == 0)
		r = atomic_file_commit(&af, b->err);
	atomic_file_abort(&af);
	if (r == 0)
		base_progress(b, "cached as %s (%.1f MiB)", tar_path, (double)size / 1048576.0);
	return r;
}

/*
 * Fill dest from the cache entry. 1: done; 0: no (usable) entry, dest still
 * empty; < 0: a hard error.
 */
static int cache_load(struct base_run *b, const char *tar_path, const char *json_path)
{
	int fd = open(tar_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	double t0 = now_s();
	json_error_t je;
	json_t *meta = json_load_file(json_path, 0, &je);
	const char *want = json_string_value(json_object_get(meta, "sha256"));
	struct rt_error e = {0};
	unsigned char sum[32];
	struct extract_opts opts = {
	    .flags = EXTRACT_ROOT_META, .label = "debian(): cached tree", .sha256_out = sum};
	struct extract_stats st = {0};
	int r = want ? extract_fd(b->dest_fd, fd, &opts, &st, &e)
	             : rt_error_set(&e, -EBADMSG, "no digest recorded");
	close(fd);
	char hex[65] = "";
	if (r == 0)
		hex_encode(sum, 32, hex);
	if (r == 0 && strcmp(hex, want))
		r = rt_error_set(&e, -EBADMSG, "its digest does not match");
	json_decref(meta);
	if (r == -EINTR)
		return rt_error_set(b->err, r, "%s", e.msg);
	if (r < 0) {
		base_progress(b, "cache entry %s is damaged (%s): dropped, rebuilding", tar_path,
		              e.msg);
		unlink(tar_path);
		unlink(json_path);
		r = extract_clear_dir(b->dest_fd, b->err);
		return r < 0 ? r : 0;
	}
	base_progress(b, "cache hit: %s, %llu entries in %.2f s (debootstrap not run)", tar_path,
	              (unsigned long long)st.entries, now_s() - t0);
	return 1;
}

int base_debian(struct base_run *b)
{
	struct args a = {0};
	char *canon = NULL, *dir = NULL, *debs = NULL, *tar_path = NULL, *json_path = NULL;
	char *lock_path = NULL, *log_path = NULL;
	int lock_fd = -1;
	FILE *log = NULL;
	int r = get_args(b, &a);
	if (r < 0)
		goto out;
	canon = canonical(&a);
	char key[65];
	sha256_hex(canon, strlen(canon), key);
	dir = xasprintf("%s/debian", b->cache_dir);
	debs = xasprintf("%s/debs", dir);
	tar_path = xasprintf("%s/%s.tar.zst", dir, key);
	json_path = xasprintf("%s/%s.json", dir, key);
	lock_path = xasprintf("%s/.lock", dir);
	log_path = xasprintf("%s/%s.failed.log", dir, key);
	r = base_mkdir_p(debs, 0755, b->err);
	if (r < 0)
		goto out;

	r = b->ctx->refresh ? 0 : cache_load(b, tar_path, json_path); /* --refresh-base */
	if (r > 0)
		normalise_tree(b);
	if (r != 0)
		goto out;

	/* One debootstrap at a time uses the .deb cache; another may fill our entry meanwhile. */
	lock_fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
		r = rt_error_errno(b->err, -errno, "debian(): cannot lock '%s'", lock_path);
		goto out;
	}
	r = b->ctx->refresh ? 0 : cache_load(b, tar_path, json_path); /* --refresh-base */
	if (r > 0)
		normalise_tree(b);
	if (r != 0)
		goto out;

	if (geteuid() != 0) {
		r = rt_error_set(b->err, -EPERM, "debian(): debootstrap needs root");
		goto out;
	}
	base_progress(b, "debootstrap %s (%s, %s) from %s", a.suite, a.variant, a.arch, a.mirror);
	/* never through a symlink planted at the name */
	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	log = log_fd >= 0 ? fdopen(log_fd, "we") : NULL;
	if (log_fd >= 0 && !log)
		close(log_fd);
	struct tail t = {0};
	double t0 = now_s();
	int status = run_debootstrap(b, &a, debs, &t, log);
	if (log) {
		fclose(log);
		log = NULL;
	}
	if (status < 0) {
		r = status;
		goto out;
	}
	if (status != 0) {
		r = report_failure(b, status, &t, log_path);
		goto out;
	}
	unlink(log_path);
	base_progress(b, "debootstrap done in %.1f s", now_s() - t0);
	normalise_tree(b);
	/* Without a cache entry the build still goes on. */
	struct rt_error e = {0};
	struct base_run quiet = *b;
	quiet.err = &e;
	if (cache_store(&quiet, tar_path, json_path, canon) < 0)
		base_progress(b, "not cached: %s", e.msg);
	r = 0;
out:
	if (log)
		fclose(log);
	if (lock_fd >= 0)
		close(lock_fd);
	json_decref(a.components);
	json_decref(a.include);
	free(a.mirror_owned);
	free(canon);
	free(dir);
	free(debs);
	free(tar_path);
	free(json_path);
	free(lock_path);
	free(log_path);
	return r;
}

const struct base_impl base_debian_impl = {"debian", base_debian};
