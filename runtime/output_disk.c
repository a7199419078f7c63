/*
 * output disk: the image as a disk for a virtual machine, raw or qcow2.
 *
 * Layout (GPT, 512-byte sectors, partitions aligned to 1 MiB):
 *   1  EFI system partition, FAT32 (mkfs.fat --invariant), label ESP
 *   2  the root file system, ext4 (mkfs.ext4 makes it empty inside the disk
 *      file at its offset; disk_ext4.c fills it from the image's tree),
 *      type "Linux root (x86-64)" of the Discoverable Partitions
 *      Specification, label root
 * The GPT is written here (protective MBR, header and entries, and their
 * backups at the end). No loop device, no mount.
 *
 * Reproducible: the disk GUID, the partition GUIDs, the ext4 UUID and hash
 * seed and the FAT volume id are derived from the image's name and the
 * output's path; every time is the image's time. The root's /etc/fstab
 * mounts the root by its UUID. qcow2 is `qemu-img convert` of the raw disk.
 */
#include "disk.h"

#include "builtins.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

extern char **environ;

enum {
	SECTOR = 512,
	MIB = 1 << 20,
	GPT_ENTRIES = 128,
	GPT_ENTRY_SIZE = 128,
	GPT_ENTRY_SECTORS = GPT_ENTRIES * GPT_ENTRY_SIZE / SECTOR, /* 32 */
};

/* Partition type GUIDs, as text. */
static const char ESP_TYPE[] = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
static const char ROOT_X86_64_TYPE[] = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";

struct guid {
	unsigned char b[16]; /* as text reads, big-endian fields */
};

static void guid_text(const struct guid *g, char out[37])
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[g->b[i] >> 4];
		out[o++] = hx[g->b[i] & 15];
	}
	out[o] = 0;
}

static void guid_parse(const char *s, struct guid *g)
{
	size_t o = 0;
	for (const char *p = s; *p && o < 16; p++) {
		if (*p == '-')
			continue;
		int hi = isdigit((unsigned char)p[0]) ? p[0] - '0'
		                                      : tolower((unsigned char)p[0]) - 'a' + 10;
		int lo = isdigit((unsigned char)p[1]) ? p[1] - '0'
		                                      : tolower((unsigned char)p[1]) - 'a' + 10;
		g->b[o++] = (unsigned char)(hi << 4 | lo);
		p++;
	}
}

/* GPT stores the first three fields little-endian. */
static void guid_disk(const struct guid *g, unsigned char out[16])
{
	static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	for (int i = 0; i < 16; i++)
		out[i] = g->b[order[i]];
}

/* A version 4 GUID from the sha256 of the image, the output's path and what. */
static void guid_derive(const struct output_ctx *ctx, const char *what, struct guid *g)
{
	const char *name = json_string_value(json_object_get(ctx->image, "name"));
	const char *path = out_plan_path(ctx);
	char *text = NULL;
	int n = asprintf(&text, "kiln disk\n%s\n%s\n%s", name ? name : "", path ? path : "", what);
	if (n < 0)
		abort();
	char hex[65];
	out_sha256_hex(text, (size_t)n, hex);
	free(text);
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		g->b[i] = (unsigned char)v;
	}
	g->b[6] = (unsigned char)((g->b[6] & 0x0f) | 0x40);
	g->b[8] = (unsigned char)((g->b[8] & 0x3f) | 0x80);
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

struct part {
	const char *name;
	struct guid type, uuid;
	uint64_t first, last; /* LBAs, inclusive */
};

static int pwrite_all(int fd, const void *buf, size_t n, off_t off, struct rt_error *err)
{
	const unsigned char *p = buf;
	while (n) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return rt_error_errno(err, -errno, "cannot write the disk");
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static void gpt_header(unsigned char *h, const struct guid *disk, uint64_t self, uint64_t other,
                       uint64_t first_usable, uint64_t last_usable, uint64_t entries_lba,
                       uint32_t entries_crc)
{
	memset(h, 0, SECTOR);
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000);
	put32(h + 12, 92);
	put64(h + 24, self);
	put64(h + 32, other);
	put64(h + 40, first_usable);
	put64(h + 48, last_usable);
	guid_disk(disk, h + 56);
	put64(h + 72, entries_lba);
	put32(h + 80, GPT_ENTRIES);
	put32(h + 84, GPT_ENTRY_SIZE);
	put32(h + 88, entries_crc);
	put32(h + 16, (uint32_t)crc32(0, h, 92));
}

static int write_gpt(int fd, uint64_t sectors, const struct guid *disk, const struct part *parts,
                     size_t nparts, struct rt_error *err)
{
	unsigned char mbr[SECTOR] = {0};
	unsigned char *pe = mbr + 446;
	pe[1] = 0x00, pe[2] = 0x02, pe[3] = 0x00; /* CHS 0/0/2 */
	pe[4] = 0xee;
	pe[5] = pe[6] = pe[7] = 0xff;
	put32(pe + 8, 1);
	put32(pe + 12, sectors - 1 > 0xffffffffu ? 0xffffffffu : (uint32_t)(sectors - 1));
	mbr[510] = 0x55, mbr[511] = 0xaa;

	static unsigned char entries[GPT_ENTRIES * GPT_ENTRY_SIZE];
	memset(entries, 0, sizeof(entries));
	for (size_t i = 0; i < nparts; i++) {
		unsigned char *e = entries + i * GPT_ENTRY_SIZE;
		guid_disk(&parts[i].type, e);
		guid_disk(&parts[i].uuid, e + 16);
		put64(e + 32, parts[i].first);
		put64(e + 40, parts[i].last);
		for (size_t k = 0; parts[i].name[k] && k < 36; k++)
			put16(e + 56 + 2 * k, (uint16_t)(unsigned char)parts[i].name[k]);
	}
	uint32_t ecrc = (uint32_t)crc32(0, entries, sizeof(entries));
	uint64_t last = sectors - 1;
	uint64_t first_usable = 2 + GPT_ENTRY_SECTORS, last_usable = last - 1 - GPT_ENTRY_SECTORS;
	unsigned char primary[SECTOR], backup[SECTOR];
	gpt_header(primary, disk, 1, last, first_usable, last_usable, 2, ecrc);
	gpt_header(backup, disk, last, 1, first_usable, last_usable, last - GPT_ENTRY_SECTORS,
	           ecrc);
	int r;
	if ((r = pwrite_all(fd, mbr, SECTOR, 0, err)) < 0 ||
	    (r = pwrite_all(fd, primary, SECTOR, SECTOR, err)) < 0 ||
	    (r = pwrite_all(fd, entries, sizeof(entries), 2 * SECTOR, err)) < 0 ||
	    (r = pwrite_all(fd, entries, sizeof(entries),
	                    (off_t)((last - GPT_ENTRY_SECTORS) * SECTOR), err)) < 0 ||
	    (r = pwrite_all(fd, backup, SECTOR, (off_t)(last * SECTOR), err)) < 0)
		return r;
	return 0;
}

/*
 * Run argv with env_extra added to the environment, its output (stdout and
 * stderr) kept: 0 when it exits 0, else err names it with the last line it
 * printed.
 */
int disk_run(const char *const *argv, const char *const *env_extra, struct rt_error *err)
{
	int mfd = memfd_create("kiln-tool", MFD_CLOEXEC);
	if (mfd < 0)
		return rt_error_errno(err, -errno, "memfd_create");
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	while (env_extra && env_extra[k])
		k++;
	char **envp = calloc(n + k + 1, sizeof(*envp));
	if (!envp)
		abort();
	size_t m = 0;
	for (size_t i = 0; i < k; i++)
		envp[m++] = (char *)env_extra[i];
	for (size_t i = 0; i < n; i++) {
		bool shadowed = false;
		for (size_t j = 0; j < k && !shadowed; j++) {
			size_t len = strcspn(env_extra[j], "=") + 1;
			shadowed = !strncmp(environ[i], env_extra[j], len);
		}
		if (!shadowed)
			envp[m++] = environ[i];
	}
	/* it dies with kiln (rt_spawn_env: PR_SET_PDEATHSIG), as every program kiln runs */
	pid_t pid;
	int r = rt_spawn_env(argv, envp, mfd, mfd, &pid, err);
	free(envp);
	if (r == -ENOENT) {
		r = rt_error_set(err, -ENOENT, "'%s' not found: install it (%s)", argv[0],
		                 !strcmp(argv[0], "mkfs.fat")   ? "Debian: dosfstools"
		                 : !strcmp(argv[0], "qemu-img") ? "Debian: qemu-utils"
		                                                : "Debian: e2fsprogs");
	} else if (r == 0) {
		int st = rt_wait_child(pid, err);
		if (st < 0) {
			r = st;
		} else if (st != 0) {
			char buf[4096];
			ssize_t got = pread(mfd, buf, sizeof(buf) - 1, 0);
			buf[got > 0 ? got : 0] = 0;
			size_t len = strlen(buf);
			while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
				buf[--len] = 0;
			char *line = strrchr(buf, '\n');
			r = rt_error_set(err, -EIO, "'%s' failed (exit status %d)%s%s", argv[0], st,
			                 len ? ": " : "", line ? line + 1 : buf);
		}
	}
	close(mfd);
	return r;
}

/* "4G", "512M", "1024K", "2GiB", plain bytes (stdlib_size_parse, which lint reads them
   with too): 0 or < 0 (err) */
static int parse_size(const char *s, uint64_t *ret, struct rt_error *err)
{
	unsigned long long v;
	if (stdlib_size_parse(s, &v) < 0)
		return rt_error_set(
		    err, -EINVAL,
		    "size '%s': expected a number of bytes with an optional K, M, G "
		    "or T (e.g. \"4G\")",
		    s);
	*ret = v;
	return 0;
}

/* Bytes the tree takes on ext4, roughly: data in 4 KiB blocks, and an inode each. */
static int tree_bytes(int dfd, uint64_t *acc, uint64_t *inodes, int depth, struct rt_error *err)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return rt_error_errno(err, -errno, "cannot read the image's tree");
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		(*inodes)++;
		*acc += ((uint64_t)st.st_size + 4095) / 4096 * 4096;
		if (S_ISDIR(st.st_mode) && depth < 256) {
			int sub = openat(dfd, de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				r = tree_bytes(sub, acc, inodes, depth + 1, err);
				close(sub);
			}
		}
	}
	closedir(d);
	return r;
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

/* ---- booting ---------------------------------------------------------------------------- */

/* Where systemd-boot's EFI binary is, in the image or else on the build machine. */
static const char SD_BOOT[] = "usr/lib/systemd/boot/efi/systemd-bootx64.efi";

struct kernel {
	char *vmlinuz, *initrd; /* paths on the build machine, in the tree's /boot */
	char *version;
	uint64_t bytes;
};

static void kernel_release(struct kernel *k)
{
	free(k->vmlinuz);
	free(k->initrd);
	free(k->version);
}

/* The newest /boot/vmlinuz-VERSION of the tree (regular files only) and its
   initrd.img-VERSION: 1 found, 0 none, < 0 error. */
static int find_kernel(const char *tree, struct kernel *k, struct rt_error *err)
{
	int tfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return rt_error_errno(err, -errno, "cannot open the image's tree '%s'", tree);
	int bfd = openat(tfd, "boot", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(tfd);
	if (bfd < 0)
		return 0;
	DIR *d = fdopendir(bfd);
	if (!d) {
		close(bfd);
		return 0;
	}
	char *best = NULL;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (strncmp(de->d_name, "vmlinuz-", 8) ||
		    fstatat(bfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!best || strverscmp(de->d_name + 8, best) > 0) {
			free(best);
			best = strdup(de->d_name + 8);
		}
	}
	int r = 0;
	if (best) {
		char name[300];
		struct stat ks, is;
		snprintf(name, sizeof(name), "initrd.img-%s", best);
		if (fstatat(bfd, name, &is, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(is.st_mode)) {
			r = rt_error_set(
			    err, -ENOENT,
			    "the image has the kernel /boot/vmlinuz-%s but no /boot/%s: install "
			    "initramfs-tools in the image (an apt task) so the kernel's package "
			    "makes it",
			    best, name);
		} else {
			snprintf(name, sizeof(name), "vmlinuz-%s", best);
			fstatat(bfd, name, &ks, AT_SYMLINK_NOFOLLOW);
			if (asprintf(&k->vmlinuz, "%s/boot/vmlinuz-%s", tree, best) < 0 ||
			    asprintf(&k->initrd, "%s/boot/initrd.img-%s", tree, best) < 0)
				abort();
			k->version = best;
			best = NULL;
			k->bytes = (uint64_t)ks.st_size + (uint64_t)is.st_size;
			r = 1;
		}
	}
	free(best);
	closedir(d);
	return r;
}

static int write_small(const char *dir, const char *name, const char *text, char **ret_path,
                       struct rt_error *err)
{
	if (asprintf(ret_path, "%s/%s", dir, name) < 0)
		abort();
	int fd = open(*ret_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return rt_error_errno(err, -errno, "cannot create '%s'", *ret_path);
	int r = out_write_all(fd, text, strlen(text), err);
	close(fd);
	return r;
}

/*
 * Make the EFI system partition boot the kernel: systemd-boot as the
 * removable-media path EFI/BOOT/BOOTX64.EFI (no NVRAM entry needed), one
 * loader entry, and the kernel and initrd beside it (systemd-boot reads only
 * the ESP). mtools writes into the FAT at its offset, its clock the image's.
 */
static int install_boot(const struct output_ctx *ctx, const char *raw_path, uint64_t esp_off,
                        const struct kernel *k, const char *cmdline, int64_t epoch,
                        const char *scratch, struct rt_error *err)
{
	char *sdboot = NULL, *loader = NULL, *entry = NULL, *img = NULL, *entry_text = NULL,
	     *env_epoch = NULL;
	int r = 0;
	if (asprintf(&sdboot, "%s/%s", ctx->rootfs_dir, SD_BOOT) < 0)
		abort();
	struct stat st;
	if (lstat(sdboot, &st) < 0 || !S_ISREG(st.st_mode)) {
		free(sdboot);
		if (asprintf(&sdboot, "/%s", SD_BOOT) < 0)
			abort();
		if (lstat(sdboot, &st) < 0 || !S_ISREG(st.st_mode)) {
			r = rt_error_set(
			    err, -ENOENT,
			    "the disk boots with systemd-boot, and neither the image nor the build "
			    "machine has %s: install systemd-boot-efi (Debian) on the build "
			    "machine "
			    "or in the image",
			    sdboot);
			goto out;
		}
	}
	const char *name = json_string_value(json_object_get(ctx->image, "name"));
	if (asprintf(&entry_text, "title %s\nversion %s\nlinux /%s\ninitrd /%s\noptions %s\n",
	             name ? name : "kiln", k->version, "vmlinuz", "initrd.img", cmdline) < 0 ||
	    asprintf(&img, "%s@@%" PRIu64, raw_path, esp_off) < 0 ||
	    asprintf(&env_epoch, "SOURCE_DATE_EPOCH=%" PRId64,
	             epoch < 315532800 ? (int64_t)315532800 : epoch) < 0)
		abort();
	if ((r = write_small(scratch, "loader.conf", "timeout 0\ndefault kiln.conf\n", &loader,
	                     err)) < 0 ||
	    (r = write_small(scratch, "kiln.conf", entry_text, &entry, err)) < 0)
		goto out;
	const char *env[] = {env_epoch, "MTOOLS_SKIP_CHECK=1", "TZ=UTC", "LC_ALL=C", NULL};
	const char *mmd[] = {
	    "mmd", "-i", img, "::/EFI", "::/EFI/BOOT", "::/loader", "::/loader/entries", NULL};
	const char *cp1[] = {"mcopy", "-i", img, sdboot, "::/EFI/BOOT/BOOTX64.EFI", NULL};
	const char *cp2[] = {"mcopy", "-i", img, loader, "::/loader/loader.conf", NULL};
	const char *cp3[] = {"mcopy", "-i", img, entry, "::/loader/entries/kiln.conf", NULL};
	const char *cp4[] = {"mcopy", "-i", img, k->vmlinuz, "::/vmlinuz", NULL};
	const char *cp5[] = {"mcopy", "-i", img, k->initrd, "::/initrd.img", NULL};
	const char *const *steps[] = {mmd, cp1, cp2, cp3, cp4, cp5};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && r == 0; i++)
		r = disk_run(steps[i], env, err);
out:
	free(sdboot);
	free(loader);
	free(entry);
	free(img);
	free(entry_text);
	free(env_epoch);
	return r;
}

/* bootable: "auto", "true" or "false", as a string or (true, false) a bool; else auto. */
static const char *bootable_arg(const struct output_ctx *ctx)
{
	json_t *v = out_arg(ctx, "bootable");
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	const char *s = json_string_value(v);
	return s ? s : "auto";
}

int disk_write_raw(const struct output_ctx *ctx, const char *raw_path, uint64_t *ret_size,
                   struct rt_error *err)
{
	int64_t epoch = 0;
	int r = out_epoch(&epoch, err);
	if (r < 0)
		return r;
	/* e2fsprogs reads a clock of 0 as "unset" and takes the real time: 1 s then. */
	if (epoch < 1)
		epoch = 1;
	if (!ctx->rootfs_dir)
		return rt_error_set(err, -EINVAL, "disk %s: no root filesystem to write", raw_path);

	struct kernel k = {0};
	char *scratch = NULL;
	const char *bootable = bootable_arg(ctx);
	bool boot = false;
	if (strcmp(bootable, "false")) {
		if ((r = find_kernel(ctx->rootfs_dir, &k, err)) < 0)
			goto out;
		boot = r > 0;
		r = 0;
		if (!boot && !strcmp(bootable, "true")) {
			r = rt_error_set(
			    err, -ENOENT,
			    "bootable = true, and the image has no kernel (/boot/vmlinuz-*): "
			    "install one in a stage (e.g. apt linux-image-cloud-amd64 and "
			    "initramfs-tools), or set bootable = false");
			goto out;
		}
	}

	uint64_t esp_size = 64 * MIB, root_size = 0;
	const char *s = json_string_value(out_arg(ctx, "esp_size"));
	if (s && strcmp(s, "auto")) {
		if ((r = parse_size(s, &esp_size, err)) < 0)
			goto out;
		esp_size = round_up(esp_size, MIB);
		if (esp_size < 33 * MIB) {
			r = rt_error_set(
			    err, -EINVAL,
			    "esp_size %s: the EFI system partition needs at least 33M (FAT32)", s);
			goto out;
		}
		if (boot && esp_size < k.bytes + 4 * MIB) {
			r = rt_error_set(
			    err, -ENOSPC,
			    "esp_size %s: the kernel and initrd (%" PRIu64
			    " MiB) do not fit in the EFI system partition: raise esp_size (or "
			    "leave it out: \"auto\")",
			    s, k.bytes / MIB + 1);
			goto out;
		}
	} else if (boot && 2 * k.bytes + 16 * MIB > esp_size) {
		esp_size = round_up(2 * k.bytes + 16 * MIB, MIB);
	}

	const char *size_arg = json_string_value(out_arg(ctx, "size"));
	uint64_t need = 0, inodes = 0;
	int tfd = open(ctx->rootfs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0) {
		r = rt_error_errno(err, -errno, "cannot open the image's tree '%s'",
		                   ctx->rootfs_dir);
		goto out;
	}
	r = tree_bytes(tfd, &need, &inodes, 0, err);
	close(tfd);
	if (r < 0)
		goto out;
	need += inodes * 256 + 32 * MIB; /* inodes, journal and metadata, roughly */
	uint64_t total = 0;
	if (!size_arg || !strcmp(size_arg, "auto")) {
		root_size = round_up(need + need / 4, MIB);
		total = MIB + esp_size + root_size + MIB;
	} else {
		if ((r = parse_size(size_arg, &total, err)) < 0)
			goto out;
		total = total / MIB * MIB;
		if (total < 2 * MIB + esp_size + 16 * MIB) {
			r = rt_error_set(err, -EINVAL, "size %s: too small for the partitions",
			                 size_arg);
			goto out;
		}
		root_size = total - 2 * MIB - esp_size;
		if (root_size < need) {
			r = rt_error_set(err, -ENOSPC,
			                 "size %s: the image's tree needs about %" PRIu64
			                 " MiB for its root partition, which would have %" PRIu64
			                 " MiB: raise `size` (or leave it out: \"auto\")",
			                 size_arg, need / MIB + 1, root_size / MIB);
			goto out;
		}
	}
	uint64_t sectors = total / SECTOR;

	struct guid disk, root_type, esp_type;
	guid_derive(ctx, "disk", &disk);
	guid_parse(ROOT_X86_64_TYPE, &root_type);
	guid_parse(ESP_TYPE, &esp_type);
	struct part parts[2] = {
	    {"esp", esp_type, {{0}}, MIB / SECTOR, (MIB + esp_size) / SECTOR - 1},
	    {"root",
	     root_type,
	     {{0}},
	     (MIB + esp_size) / SECTOR,
	     (MIB + esp_size + root_size) / SECTOR - 1},
	};
	guid_derive(ctx, "esp", &parts[0].uuid);
	guid_derive(ctx, "root", &parts[1].uuid);
	struct guid fs_uuid, hash_seed, vol;
	guid_derive(ctx, "ext4", &fs_uuid);
	guid_derive(ctx, "ext4 hash seed", &hash_seed);
	guid_derive(ctx, "fat", &vol);
	char fs_uuid_s[37], hash_s[37], volid[9];
	guid_text(&fs_uuid, fs_uuid_s);
	guid_text(&hash_seed, hash_s);
	snprintf(volid, sizeof(volid), "%02X%02X%02X%02X", vol.b[0], vol.b[1], vol.b[2], vol.b[3]);

	int fd = open(raw_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = rt_error_errno(err, -errno, "cannot open '%s'", raw_path);
		goto out;
	}
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)total) < 0) {
		r = rt_error_errno(err, -errno, "cannot size the disk '%s' to %" PRIu64 " bytes",
		                   raw_path, total);
		close(fd);
		goto out;
	}
	r = write_gpt(fd, sectors, &disk, parts, 2, err);
	close(fd);
	if (r < 0)
		goto out;

	char esp_off[32], esp_kib[32], root_opts[256], root_kib[32], epoch_env[64];
	snprintf(esp_off, sizeof(esp_off), "--offset=%" PRIu64, parts[0].first);
	snprintf(esp_kib, sizeof(esp_kib), "%" PRIu64, esp_size / 1024);
	const char *fat[] = {"mkfs.fat", "--invariant", "-F",    "32",  "-s", "1",
	                     "-S",       "512",         "-i",    volid, "-n", "ESP",
	                     esp_off,    raw_path,      esp_kib, NULL};
	if ((r = disk_run(fat, NULL, err)) < 0)
		goto out;

	snprintf(root_opts, sizeof(root_opts),
	         "offset=%" PRIu64 ",hash_seed=%s,root_owner=0:0,lazy_itable_init=0,nodiscard",
	         parts[1].first * SECTOR, hash_s);
	snprintf(root_kib, sizeof(root_kib), "%" PRIu64 "k", root_size / 1024);
	snprintf(epoch_env, sizeof(epoch_env), "E2FSPROGS_FAKE_TIME=%" PRId64, epoch);
	const char *mkfs[] = {"mkfs.ext4", "-q",     "-F",     "-b", "4096",    "-I",
	                      "256",       "-L",     "root",   "-U", fs_uuid_s, "-E",
	                      root_opts,   raw_path, root_kib, NULL};
	const char *env[] = {epoch_env, "LC_ALL=C", "TZ=UTC", NULL};
	if ((r = disk_run(mkfs, env, err)) < 0)
		goto out;

	if (boot) {
		const char *extra = json_string_value(out_arg(ctx, "kernel_cmdline"));
		char *cmdline = NULL;
		if (asprintf(&cmdline, "root=UUID=%s ro %s", fs_uuid_s,
		             extra ? extra : "console=ttyS0") < 0 ||
		    asprintf(&scratch, "%s.bootXXXXXX", raw_path) < 0)
			abort();
		if (!mkdtemp(scratch)) {
			r = rt_error_errno(err, -errno, "cannot create a directory beside '%s'",
			                   raw_path);
			free(scratch);
			scratch = NULL;
		} else {
			r = install_boot(ctx, raw_path, parts[0].first * SECTOR, &k, cmdline, epoch,
			                 scratch, err);
		}
		free(cmdline);
		if (r < 0)
			goto out;
	}

	char fstab[256];
	int fn = snprintf(fstab, sizeof(fstab),
	                  "# written by kiln: the root file system by its UUID\n"
	                  "UUID=%s / ext4 errors=remount-ro 0 1\n",
	                  fs_uuid_s);
	struct disk_file files[1];
	size_t nfiles = 0;
	struct stat est;
	char etc[4096];
	snprintf(etc, sizeof(etc), "%s/etc", ctx->rootfs_dir);
	if (lstat(etc, &est) == 0 && S_ISDIR(est.st_mode))
		files[nfiles++] = (struct disk_file){"/etc/fstab", fstab, (size_t)fn, 0644};
	if ((r = disk_ext4_fill(raw_path, parts[1].first * SECTOR, ctx->rootfs_dir, epoch, files,
	                        nfiles, err)) < 0)
		goto out;
	*ret_size = total;
out:
	if (scratch) {
		int dfd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			unlinkat(dfd, "loader.conf", 0);
			unlinkat(dfd, "kiln.conf", 0);
			close(dfd);
		}
		rmdir(scratch);
		free(scratch);
	}
	kernel_release(&k);
	return r;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

int output_disk(const struct output_ctx *ctx, struct rt_error *err)
{
	char *final = out_final_path(ctx);
	struct out_tmp raw = {0}, out = {0};
	int fd = -1, r;
	const char *format = json_string_value(out_arg(ctx, "format"));
	if (!format || !strcmp(format, "auto"))
		format = ends_with(final, ".qcow2") ? "qcow2" : "raw";
	bool qcow2 = !strcmp(format, "qcow2");
	uint64_t vsize = 0;
	if ((r = out_tmp_file(&raw, final, &fd, err)) < 0)
		goto done;
	close(fd);
	fd = -1;
	if (!raw.tmp) {
		r = rt_error_set(err, -EINVAL,
		                 "disk %s: not a regular file: a disk is written to a file", final);
		goto done;
	}
	if ((r = disk_write_raw(ctx, raw.tmp, &vsize, err)) < 0)
		goto done;
	struct out_tmp *result = &raw;
	if (qcow2) {
		if ((r = out_tmp_file(&out, final, &fd, err)) < 0)
			goto done;
		close(fd);
		fd = -1;
		const char *conv[] = {"qemu-img", "convert", "-q",    "-f",    "raw",
		                      "-O",       "qcow2",   raw.tmp, out.tmp, NULL};
		if ((r = disk_run(conv, NULL, err)) < 0)
			goto done;
		result = &out;
	}
	char *tmp_path = strdup(result->tmp);
	if (!tmp_path)
		abort();
	char hex[129];
	uint64_t size;
	r = out_hash_file(tmp_path, "sha256", hex, sizeof(hex), &size, err);
	free(tmp_path);
	if (r < 0 || (r = out_tmp_commit(result, err)) < 0)
		goto done;
	char digest[140];
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	out_artifact_add(
	    ctx, "disk", digest, size,
	    json_pack("{s:s, s:I}", "format", format, "virtual_size", (json_int_t)vsize));
done:
	if (fd >= 0)
		close(fd);
	out_tmp_release(&out);
	out_tmp_release(&raw);
	free(final);
	return r;
}

const struct output_impl output_disk_impl = {"disk", output_disk};
