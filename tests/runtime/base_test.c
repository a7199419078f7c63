/*
 * base_test: a driver for the bases' tests (tests/runtime/t50xx-*.sh), so
 * they can call base_create() and extract.c directly, before the executor
 * exists to call them.
 *
 *   base_test create FROM_JSON DEST      base_create(); KILN_CACHE_DIR is the cache
 *   base_test extract [-w] ARCHIVE DEST  extract_path() (-w: OCI whiteouts)
 *   base_test mirror APT_DIR             the Debian mirror apt's sources name
 *
 * Progress lines go to stderr as "progress: ..."; the elapsed time as
 * "time: SECONDS". Exit status: 0 done, 3 the call failed ("error: ..." on
 * stderr), 2 usage. A sanitizer's own exit status is never 3.
 */
#include "base_int.h"
#include "extract.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void progress(void *data, const char *line)
{
	(void)data;
	fprintf(stderr, "progress: %s\n", line);
}

static void on_signal(int sig)
{
	(void)sig;
	rt_interrupted = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: base_test create FROM_JSON DEST\n"
	                "       base_test extract [-w] ARCHIVE DEST\n"
	                "       base_test mirror APT_DIR\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (argc < 3)
		return usage();
	struct rt_error err = {0};
	int r;
	double t0 = now_s();
	if (!strcmp(argv[1], "create") && argc == 4) {
		json_error_t je;
		json_t *from = json_loads(argv[2], 0, &je);
		if (!from) {
			fprintf(stderr, "error: bad JSON: %s\n", je.text);
			return 2;
		}
		struct base_ctx ctx = {.progress = progress};
		r = base_create(&ctx, from, argv[3], &err);
		json_decref(from);
	} else if (!strcmp(argv[1], "extract") && (argc == 4 || argc == 5)) {
		bool wh = argc == 5 && !strcmp(argv[2], "-w");
		if (argc == 5 && !wh)
			return usage();
		const char *archive = argv[argc - 2], *dest = argv[argc - 1];
		int fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			perror(dest);
			return 3;
		}
		struct extract_opts opts = {.flags = wh ? EXTRACT_WHITEOUTS : 0};
		struct extract_stats st = {0};
		r = extract_path(fd, archive, &opts, &st, &err);
		close(fd);
		if (r == 0)
			fprintf(stderr,
			        "progress: %llu entries, %llu bytes, %llu whiteouts, %llu devices "
			        "skipped\n",
			        (unsigned long long)st.entries, (unsigned long long)st.bytes,
			        (unsigned long long)st.whiteouts,
			        (unsigned long long)st.skipped_devices);
	} else if (!strcmp(argv[1], "mirror") && argc == 3) {
		char *m = base_debian_default_mirror(argv[2]);
		printf("%s\n", m ? m : "none");
		free(m);
		return 0;
	} else {
		return usage();
	}
	if (r < 0) {
		fprintf(stderr, "error: %s\n", err.msg);
		return 3;
	}
	fprintf(stderr, "time: %.3f\n", now_s() - t0);
	return 0;
}
