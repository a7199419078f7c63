/*
 * conn_test: drives one connection for the t10xx and t12xx tests. It opens a
 * rootfs (or, with -l, the build machine in DIR; with -s, the host DIR =
 * [USER@]HOST:PORT over SSH) and runs the operations given, separated by "::",
 * printing one line per operation:
 *
 *   conn_test [-l] [-f] [-c] DIR OP ARGS... [:: OP ARGS...]...
 *   conn_test -s [-i KEY] [-k KNOWN_HOSTS] [-a] [-g] [-p PASSWORD_FILE] [-b]
 *             [-B BECOME_PASSWORD_FILE] [-r TRIES] [-t CONNECT_TIMEOUT] USER@HOST:PORT OP...
 *
 * (ssh: -a accepts a new host key, -g tries the ssh-agent, -b runs commands through sudo;
 * passwords are read from files so that they are on no command line.)
 *
 *   write PATH TEXT|@HOSTFILE [MODE|- [UID GID]]   ok
 *   read PATH                                      the content, as is
 *   stat PATH [nofollow]                           exists 1 type reg mode 0644 uid 0 gid 0 size 5
 *   mkdir PATH [MODE|- [UID GID]]                  ok
 *   touch PATH [MODE|- [UID GID]]                  ok
 *   chmod PATH MODE / chown PATH UID GID           ok
 *   symlink TARGET PATH / readlink PATH            ok / the target
 *   remove PATH [-r]                               ok
 *   exec [--timeout S] [--input TEXT] [--input-file F] [--cwd D] [--env N=V]...
 *        [--out F] [--err F] -- ARGV...            status N out N err N (lengths); the
 *                                                  outputs go to F (else are dropped)
 *   sleep SECONDS                                  "ready PID", then waits
 *   bench N                                        medians in microseconds of N exec
 *                                                  round trips (true), stats, reads, writes
 *
 * A failed operation prints "error ENAME message" and the others still run. Exit status:
 * 0 all ran, 2 some failed, 1 bad usage or the connection did not open. -f leaves an fd
 * open without close-on-exec first, to show that commands do not inherit it. -c wraps the
 * connection in conn_check_open, as a module gets it in --check. SIGINT and
 * SIGTERM set rt_interrupted, as in kiln.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failed;

static void report(int r, const struct rt_error *err)
{
	if (r >= 0) {
		printf("ok\n");
		return;
	}
	const char *name = strerrorname_np(-r);
	printf("error %s %s\n", name ? name : "E?", err->msg);
	failed = 1;
}

static int fail_op(int r, const struct rt_error *err)
{
	report(r, err);
	return r;
}

static long num(const char *s, int base)
{
	char *end;
	long v = strtol(s, &end, base);
	if (!*s || *end) {
		fprintf(stderr, "conn_test: not a number: %s\n", s);
		exit(1);
	}
	return v;
}

/* [MODE|- [UID GID]] from argv[0..] */
static struct conn_attrs attrs_of(char **argv, int argc)
{
	struct conn_attrs a = CONN_ATTRS_DEFAULT;
	if (argc > 0 && strcmp(argv[0], "-") != 0)
		a.mode = (mode_t)num(argv[0], 8);
	if (argc > 2) {
		a.uid = (uid_t)num(argv[1], 10);
		a.gid = (gid_t)num(argv[2], 10);
	}
	return a;
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "conn_test: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	if (!buf)
		exit(1);
	*ret_len = len;
	return buf;
}

static void spill(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "conn_test: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static const char *type_name(mode_t m)
{
	return S_ISREG(m)    ? "reg"
	       : S_ISDIR(m)  ? "dir"
	       : S_ISLNK(m)  ? "lnk"
	       : S_ISCHR(m)  ? "chr"
	       : S_ISBLK(m)  ? "blk"
	       : S_ISFIFO(m) ? "fifo"
	                     : "sock";
}

static int op_exec(struct conn *c, char **argv, int argc)
{
	struct exec_req req = {0};
	const char *env[64];
	int nenv = 0, i = 0;
	const char *out = NULL, *errf = NULL;
	char *input = NULL;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (i + 1 >= argc)
			goto usage;
		const char *o = argv[i], *v = argv[++i];
		if (strcmp(o, "--timeout") == 0)
			req.timeout_s = (int)num(v, 10);
		else if (strcmp(o, "--input") == 0) {
			req.input = v;
			req.input_len = strlen(v);
		} else if (strcmp(o, "--input-file") == 0) {
			input = slurp(v, &req.input_len);
			req.input = input;
		} else if (strcmp(o, "--cwd") == 0)
			req.cwd = v;
		else if (strcmp(o, "--env") == 0 && nenv < 63)
			env[nenv++] = v;
		else if (strcmp(o, "--out") == 0)
			out = v;
		else if (strcmp(o, "--err") == 0)
			errf = v;
		else
			goto usage;
	}
	if (i >= argc - 1)
		goto usage;
	env[nenv] = NULL;
	req.env = nenv ? env : NULL;
	req.argv = (const char *const *)argv + i + 1;
	struct exec_res res;
	struct rt_error err = {0};
	int r = c->ops->exec(c, &req, &res, &err);
	free(input);
	if (r < 0)
		return fail_op(r, &err);
	printf("status %d out %zu err %zu\n", res.status, res.out_len, res.err_len);
	if (out)
		spill(out, res.out, res.out_len);
	if (errf)
		spill(errf, res.err, res.err_len);
	exec_res_release(&res);
	return 0;
usage:
	fprintf(stderr, "conn_test: exec [options] -- ARGV...\n");
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int op_bench(struct conn *c, int n)
{
	double *t = calloc((size_t)n, sizeof(*t));
	struct rt_error err = {0};
	const char *argv[] = {"true", NULL};
	struct exec_req req = {.argv = argv};
	const char *p = "/tmp/kiln-bench";
	int r = c->ops->write(c, p, "hello\n", 6, NULL, &err);
	for (int i = 0; r >= 0 && i < n; i++) {
		struct exec_res res;
		double t0 = now_us();
		r = c->ops->exec(c, &req, &res, &err);
		t[i] = now_us() - t0;
		if (r >= 0 && res.status != 0)
			r = rt_error_set(&err, -EIO, "true exited with %d", res.status);
		if (r >= 0)
			exec_res_release(&res);
	}
	if (r >= 0)
		printf("exec_us %.1f\n", median(t, n));
	for (int i = 0; r >= 0 && i < n; i++) {
		struct conn_stat st;
		double t0 = now_us();
		r = c->ops->stat(c, p, true, &st, &err);
		t[i] = now_us() - t0;
	}
	if (r >= 0)
		printf("stat_us %.1f\n", median(t, n));
	for (int i = 0; r >= 0 && i < n; i++) {
		char *data;
		size_t len;
		double t0 = now_us();
		r = c->ops->read(c, p, 1 << 20, &data, &len, &err);
		t[i] = now_us() - t0;
		if (r >= 0)
			free(data);
	}
	if (r >= 0)
		printf("read_us %.1f\n", median(t, n));
	for (int i = 0; r >= 0 && i < n; i++) {
		double t0 = now_us();
		r = c->ops->write(c, p, "hello\n", 6, NULL, &err);
		t[i] = now_us() - t0;
	}
	if (r >= 0)
		printf("write_us %.1f\n", median(t, n));
	free(t);
	(void)c->ops->remove(c, p, false, NULL);
	if (r < 0)
		return fail_op(r, &err);
	return 0;
}

/* Run one operation: argv[0] is its name, argc counts its arguments with it. */
static void run_op(struct conn *c, char **argv, int argc)
{
	struct rt_error err = {0};
	const char *op = argv[0];
	int r;
#define NEED(n)                                                                                    \
	do {                                                                                       \
		if (argc < (n) + 1) {                                                              \
			fprintf(stderr, "conn_test: %s needs %d arguments\n", op, n);              \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)
	if (strcmp(op, "write") == 0) {
		NEED(2);
		size_t len;
		char *data;
		if (argv[2][0] == '@') {
			data = slurp(argv[2] + 1, &len);
		} else {
			data = strdup(argv[2]);
			len = strlen(data);
		}
		struct conn_attrs a = attrs_of(argv + 3, argc - 3);
		r = c->ops->write(c, argv[1], data, len, &a, &err);
		free(data);
		report(r, &err);
	} else if (strcmp(op, "read") == 0) {
		NEED(1);
		char *data;
		size_t len;
		r = c->ops->read(c, argv[1], 1 << 30, &data, &len, &err);
		if (r < 0) {
			report(r, &err);
			return;
		}
		fwrite(data, 1, len, stdout);
		free(data);
	} else if (strcmp(op, "stat") == 0) {
		NEED(1);
		struct conn_stat st;
		bool follow = !(argc > 2 && strcmp(argv[2], "nofollow") == 0);
		r = c->ops->stat(c, argv[1], follow, &st, &err);
		if (r < 0)
			report(r, &err);
		else if (!st.exists)
			printf("exists 0\n");
		else
			printf("exists 1 type %s mode %04o uid %u gid %u size %lld\n",
			       type_name(st.mode), (unsigned)(st.mode & 07777), (unsigned)st.uid,
			       (unsigned)st.gid, (long long)st.size);
	} else if (strcmp(op, "mkdir") == 0) {
		NEED(1);
		struct conn_attrs a = attrs_of(argv + 2, argc - 2);
		report(c->ops->mkdir(c, argv[1], &a, &err), &err);
	} else if (strcmp(op, "touch") == 0) {
		NEED(1);
		struct conn_attrs a = attrs_of(argv + 2, argc - 2);
		report(c->ops->touch(c, argv[1], &a, &err), &err);
	} else if (strcmp(op, "chmod") == 0) {
		NEED(2);
		report(c->ops->chmod(c, argv[1], (mode_t)num(argv[2], 8), &err), &err);
	} else if (strcmp(op, "chown") == 0) {
		NEED(3);
		report(c->ops->chown(c, argv[1], (uid_t)num(argv[2], 10), (gid_t)num(argv[3], 10),
		                     &err),
		       &err);
	} else if (strcmp(op, "symlink") == 0) {
		NEED(2);
		report(c->ops->symlink(c, argv[1], argv[2], &err), &err);
	} else if (strcmp(op, "readlink") == 0) {
		NEED(1);
		char *t;
		r = c->ops->readlink(c, argv[1], &t, &err);
		if (r < 0) {
			report(r, &err);
			return;
		}
		printf("%s\n", t);
		free(t);
	} else if (strcmp(op, "remove") == 0) {
		NEED(1);
		bool rec = argc > 2 && strcmp(argv[2], "-r") == 0;
		report(c->ops->remove(c, argv[1], rec, &err), &err);
	} else if (strcmp(op, "exec") == 0) {
		op_exec(c, argv + 1, argc - 1);
	} else if (strcmp(op, "sleep") == 0) {
		NEED(1);
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		sleep((unsigned)num(argv[1], 10));
	} else if (strcmp(op, "bench") == 0) {
		NEED(1);
		op_bench(c, (int)num(argv[1], 10));
	} else {
		fprintf(stderr, "conn_test: unknown operation '%s'\n", op);
		exit(1);
	}
	fflush(stdout);
}

/* The first line of a file (a password), malloc'd. */
static char *first_line(const char *path)
{
	size_t len;
	char *s = slurp(path, &len);
	s = realloc(s, len + 1);
	if (!s)
		exit(1);
	s[len] = 0;
	s[strcspn(s, "\n")] = 0;
	return s;
}

/* USER@HOST:PORT into o (pointing into spec, which is changed). */
static void parse_target(char *spec, struct ssh_opts *o)
{
	char *at = strchr(spec, '@');
	if (at) {
		*at = 0;
		o->user = spec;
		spec = at + 1;
	}
	char *colon = strrchr(spec, ':');
	if (colon) {
		*colon = 0;
		o->port = (int)num(colon + 1, 10);
	}
	o->host = spec;
}

static void on_signal(int sig)
{
	rt_interrupted = sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	bool local = false, check = false, ssh = false;
	struct ssh_opts so = {0};
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i];
		bool has_value = i + 1 < argc;
		if (strcmp(o, "-l") == 0)
			local = true;
		else if (strcmp(o, "-c") == 0)
			check = true;
		else if (strcmp(o, "-s") == 0)
			ssh = true;
		else if (strcmp(o, "-a") == 0)
			so.accept_new = true;
		else if (strcmp(o, "-g") == 0)
			so.agent = true;
		else if (strcmp(o, "-b") == 0)
			so.become = true;
		else if (strcmp(o, "-i") == 0 && has_value)
			so.key_file = argv[++i];
		else if (strcmp(o, "-k") == 0 && has_value)
			so.known_hosts = argv[++i];
		else if (strcmp(o, "-p") == 0 && has_value)
			so.password = first_line(argv[++i]);
		else if (strcmp(o, "-B") == 0 && has_value)
			so.become_password = first_line(argv[++i]);
		else if (strcmp(o, "-r") == 0 && has_value)
			so.reconnect_tries = (int)num(argv[++i], 10);
		else if (strcmp(o, "-t") == 0 && has_value)
			so.connect_timeout_s = (int)num(argv[++i], 10);
		else if (strcmp(argv[i], "-f") == 0) {
			if (open("/", O_RDONLY | O_DIRECTORY) < 0) /* no O_CLOEXEC: a bait */
				return 1;
		} else
			break;
	}
	if (argc - i < 2) {
		fprintf(stderr,
		        "usage: conn_test [-l] [-f] [-c] [-s SSH-OPTIONS] DIR|USER@HOST:PORT OP "
		        "ARGS... [:: OP ARGS...]...\n");
		return 1;
	}
	struct conn *c = NULL;
	struct rt_error err = {0};
	int r;
	if (ssh) {
		parse_target(argv[i], &so);
		so.backoff_ms = 200;
		r = conn_ssh_open(&so, &c, &err);
		free((char *)so.password);
		free((char *)so.become_password);
	} else {
		r = local ? conn_local_open(argv[i], &c, &err)
		          : conn_rootfs_open(argv[i], &c, &err);
	}
	if (r < 0) {
		const char *name = strerrorname_np(-r);
		printf("error %s %s\n", name ? name : "E?", err.msg);
		return 1;
	}
	struct conn *target = c;
	if (check)
		c = conn_check_open(target);
	for (int start = ++i; start < argc;) {
		int end = start;
		while (end < argc && strcmp(argv[end], "::") != 0)
			end++;
		argv[end] = NULL; /* each operation's arguments end with a NULL, as exec needs */
		if (end > start)
			run_op(c, argv + start, end - start);
		start = end + 1;
	}
	if (check)
		c = conn_free(c);
	c = conn_free(target);
	return failed ? 2 : 0;
}
