/*
 * output vagrant: a Vagrant box for the libvirt provider, as `vagrant box
 * add` reads it: a gzip tar holding metadata.json ({"provider": "libvirt",
 * "format": "qcow2", "virtual_size": GiB}), a Vagrantfile with the
 * machine's memory and CPUs, and box.img, the image's disk (output_disk.c)
 * as qcow2. Entries in that order, times the image's: reproducible as the
 * disk is. The raw and qcow2 disks are temporary files beside the box.
 */
#include "disk.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_int_t int_arg(const struct output_ctx *ctx, const char *name, json_int_t dflt)
{
	json_t *v = out_arg(ctx, name);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int output_vagrant(const struct output_ctx *ctx, struct rt_error *err)
{
	char *final = out_final_path(ctx);
	struct out_tmp raw = {0}, qcow = {0}, box = {0};
	struct out_sink sink = {0};
	struct out_tar tar = {0};
	int fd = -1, r;
	uint64_t vsize = 0;
	int64_t epoch = 0;
	json_int_t memory = int_arg(ctx, "memory", 1024), cpus = int_arg(ctx, "cpus", 1);
	if (memory < 64 || memory > 1 << 22 || cpus < 1 || cpus > 1024) {
		r = rt_error_set(err, -EINVAL,
		                 "vagrant %s: memory %" JSON_INTEGER_FORMAT
		                 " MiB and cpus %" JSON_INTEGER_FORMAT
		                 ": expected 64 MiB or more and 1 to 1024 CPUs",
		                 final, memory, cpus);
		goto done;
	}
	if ((r = out_epoch(&epoch, err)) < 0)
		goto done;
	if ((r = out_tmp_file(&raw, final, &fd, err)) < 0)
		goto done;
	close(fd);
	fd = -1;
	if (!raw.tmp) {
		r = rt_error_set(err, -EINVAL,
		                 "vagrant %s: not a regular file: a box is written to a file",
		                 final);
		goto done;
	}
	raw.no_sync = true;
	if ((r = disk_write_raw(ctx, raw.tmp, &vsize, err)) < 0 ||
	    (r = out_tmp_file(&qcow, final, &fd, err)) < 0)
		goto done;
	close(fd);
	fd = -1;
	qcow.no_sync = true;
	const char *conv[] = {"qemu-img", "convert", "-q",    "-f",     "raw",
	                      "-O",       "qcow2",   raw.tmp, qcow.tmp, NULL};
	if ((r = disk_run(conv, NULL, err)) < 0)
		goto done;

	char meta[256], vagrantfile[1024];
	int mlen = snprintf(
	    meta, sizeof(meta),
	    "{\"format\":\"qcow2\",\"provider\":\"libvirt\",\"virtual_size\":%" PRIu64 "}\n",
	    (uint64_t)((vsize + (UINT64_C(1) << 30) - 1) >> 30));
	int vlen = snprintf(
	    vagrantfile, sizeof(vagrantfile),
	    "# The box's defaults (written by kiln); a project's Vagrantfile overrides them.\n"
	    "Vagrant.configure(\"2\") do |config|\n"
	    "  config.vm.provider :libvirt do |libvirt|\n"
	    "    libvirt.driver = \"kvm\"\n"
	    "    libvirt.memory = %" JSON_INTEGER_FORMAT "\n"
	    "    libvirt.cpus = %" JSON_INTEGER_FORMAT "\n"
	    "  end\n"
	    "end\n",
	    memory, cpus);
	time_t t = (time_t)epoch;
	if ((r = out_tmp_file(&box, final, &fd, err)) < 0 ||
	    (r = out_sink_init(&sink, fd, OUT_COMP_GZIP, 0, false, err)) < 0 ||
	    (r = out_tar_open(&tar, &sink, err)) < 0 ||
	    (r = out_tar_add_mem(&tar, "metadata.json", meta, (size_t)mlen, t, err)) < 0 ||
	    (r = out_tar_add_mem(&tar, "Vagrantfile", vagrantfile, (size_t)vlen, t, err)) < 0 ||
	    (r = out_tar_add_file(&tar, "box.img", qcow.tmp, t, err)) < 0 ||
	    (r = out_tar_close(&tar, err)) < 0 || (r = out_sink_finish(&sink, err)) < 0)
		goto done;
	close(fd);
	fd = -1;
	if ((r = out_tmp_commit(&box, err)) < 0)
		goto done;
	char digest[80];
	snprintf(digest, sizeof(digest), "sha256:%s", sink.out_hex);
	out_artifact_add(
	    ctx, "vagrant", digest, sink.out_bytes,
	    json_pack("{s:s, s:I}", "provider", "libvirt", "virtual_size", (json_int_t)vsize));
done:
	out_tar_release(&tar);
	out_sink_release(&sink);
	if (fd >= 0)
		close(fd);
	out_tmp_release(&box);
	out_tmp_release(&qcow);
	out_tmp_release(&raw);
	free(final);
	return r;
}

const struct output_impl output_vagrant_impl = {"vagrant", output_vagrant};
