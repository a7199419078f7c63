/*
 * output_test: drives layer.c and the outputs on a real tree, for the t30xx
 * tests and bench/export. Reads a job (JSON) from the file named by its
 * argument:
 *
 *   {"rootfs": DIR, "work": DIR, "local_root": DIR,
 *    "layers": true,                 (false: no layers, e.g. for a tar output only)
 *    "stages": ["sh command", ...],  (each run in rootfs between a snapshot and a layer)
 *    "image": {...plan image...}, "outputs": [{...plan output...}, ...]}
 *
 * Layer 0 is the whole tree; each stage then runs `sh -c COMMAND` in the
 * rootfs and adds a layer of its changes. Then each output is written in
 * order, sharing one artifacts array. Prints {"layers": [...], "artifacts":
 * [...], "seconds": {...}} on stdout; on failure the error on stderr and
 * exit status 1. SIGINT and SIGTERM set rt_interrupted, as kiln does.
 */
#include "output.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_signal(int sig)
{
	(void)sig;
	rt_interrupted = 1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, const struct rt_error *err)
{
	fprintf(stderr, "output_test: %s: %s\n", what, err->msg);
	return 1;
}

static int run_stage(const char *rootfs, const char *cmd)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (chdir(rootfs) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: output_test JOB.json\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	json_error_t jerr;
	json_t *job = json_load_file(argv[1], 0, &jerr);
	if (!job) {
		fprintf(stderr, "output_test: %s: %s\n", argv[1], jerr.text);
		return 2;
	}
	const char *rootfs = json_string_value(json_object_get(job, "rootfs"));
	const char *work = json_string_value(json_object_get(job, "work"));
	const char *local_root = json_string_value(json_object_get(job, "local_root"));
	json_t *stages = json_object_get(job, "stages");
	json_t *want_layers = json_object_get(job, "layers");
	bool layers_on = !want_layers || json_is_true(want_layers);
	struct rt_error err = {0};
	struct layer layers[64];
	size_t nlayers = 0;
	json_t *seconds = json_object();
	int rc = 0;

	if (layers_on) {
		char path[4096];
		double t0 = now();
		snprintf(path, sizeof(path), "%s/layer-0.tar", work);
		if (layer_write(rootfs, NULL, path, &layers[nlayers], &err) < 0) {
			rc = die("layer 0", &err);
			goto out;
		}
		nlayers++;
		json_object_set_new(seconds, "layer-0", json_real(now() - t0));
		size_t i;
		json_t *cmd;
		json_array_foreach (stages, i, cmd) {
			struct layer_snap *snap;
			if (nlayers == 64) {
				rc = 2;
				goto out;
			}
			t0 = now();
			if (layer_snapshot(rootfs, &snap, &err) < 0) {
				rc = die("snapshot", &err);
				goto out;
			}
			snprintf(path, sizeof(path), "snapshot-%zu", nlayers);
			json_object_set_new(seconds, path, json_real(now() - t0));
			if (run_stage(rootfs, json_string_value(cmd)) < 0) {
				fprintf(stderr, "output_test: stage %zu failed\n", i + 1);
				layer_snap_free(snap);
				rc = 1;
				goto out;
			}
			snprintf(path, sizeof(path), "%s/layer-%zu.tar", work, nlayers);
			t0 = now();
			int r = layer_write(rootfs, snap, path, &layers[nlayers], &err);
			layer_snap_free(snap);
			if (r < 0) {
				rc = die("layer", &err);
				goto out;
			}
			snprintf(path, sizeof(path), "layer-%zu", nlayers);
			json_object_set_new(seconds, path, json_real(now() - t0));
			nlayers++;
		}
	}
	json_t *artifacts = json_array();
	json_object_set_new(job, "artifacts_out", artifacts);
	struct output_ctx ctx = {
	    .image = json_object_get(job, "image"),
	    .local_root = local_root,
	    .rootfs_dir = rootfs,
	    .layers = layers,
	    .nlayers = nlayers,
	    .artifacts = artifacts,
	};
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(job, "outputs"), i, o) {
		ctx.output = o;
		double t0 = now();
		if (output_write(&ctx, &err) < 0) {
			char what[64];
			snprintf(what, sizeof(what), "output %zu", i);
			rc = die(what, &err);
			goto out;
		}
		json_object_set_new(seconds, json_string_value(json_object_get(o, "path")),
		                    json_real(now() - t0));
	}
	json_t *ls = json_array();
	for (size_t k = 0; k < nlayers; k++)
		json_array_append_new(ls, json_pack("{s:s, s:s, s:I}", "path", layers[k].path,
		                                    "diff_id", layers[k].diff_id, "size",
		                                    (json_int_t)layers[k].size));
	json_t *res =
	    json_pack("{s:o, s:O, s:O}", "layers", ls, "artifacts", artifacts, "seconds", seconds);
	json_dumpf(res, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(res);
out:
	for (size_t k = 0; k < nlayers; k++)
		layer_release(&layers[k]);
	json_decref(seconds);
	json_decref(job);
	return rc;
}
