/*
 * lazy_archive: libarchive loaded on first use. Written by tools/gen-lazy.py from
 * libarchive's headers; do not edit: run `tools/gen-lazy.py archive build` again after
 * calling a function of libarchive that is not here (see lazylib.h).
 */
#include "lazylib.h"

#include <stdarg.h>
#include <stdio.h>
#include <archive.h>
#include <archive_entry.h>

static struct lazylib lib = LAZYLIB_INIT("libarchive.so.13");

#define REAL(name) ((__typeof__(name) *)lazylib_cached(&lib, &p_##name, #name))

static void *p_archive_entry_clear;
struct archive_entry *archive_entry_clear(struct archive_entry *a0)
{
	return REAL(archive_entry_clear)(a0);
}

static void *p_archive_entry_copy_hardlink;
void archive_entry_copy_hardlink(struct archive_entry *a0, const char *a1)
{
	REAL(archive_entry_copy_hardlink)(a0, a1);
}

static void *p_archive_entry_copy_pathname;
void archive_entry_copy_pathname(struct archive_entry *a0, const char *a1)
{
	REAL(archive_entry_copy_pathname)(a0, a1);
}

static void *p_archive_entry_copy_symlink;
void archive_entry_copy_symlink(struct archive_entry *a0, const char *a1)
{
	REAL(archive_entry_copy_symlink)(a0, a1);
}

static void *p_archive_entry_filetype;
mode_t archive_entry_filetype(struct archive_entry *a0)
{
	return REAL(archive_entry_filetype)(a0);
}

static void *p_archive_entry_free;
void archive_entry_free(struct archive_entry *a0)
{
	REAL(archive_entry_free)(a0);
}

static void *p_archive_entry_gid;
la_int64_t archive_entry_gid(struct archive_entry *a0)
{
	return REAL(archive_entry_gid)(a0);
}

static void *p_archive_entry_hardlink;
const char *archive_entry_hardlink(struct archive_entry *a0)
{
	return REAL(archive_entry_hardlink)(a0);
}

static void *p_archive_entry_linkify;
void archive_entry_linkify(struct archive_entry_linkresolver *a0, struct archive_entry **a1,
                           struct archive_entry **a2)
{
	REAL(archive_entry_linkify)(a0, a1, a2);
}

static void *p_archive_entry_linkresolver_free;
void archive_entry_linkresolver_free(struct archive_entry_linkresolver *a0)
{
	REAL(archive_entry_linkresolver_free)(a0);
}

static void *p_archive_entry_linkresolver_new;
struct archive_entry_linkresolver *archive_entry_linkresolver_new(void)
{
	return REAL(archive_entry_linkresolver_new)();
}

static void *p_archive_entry_linkresolver_set_strategy;
void archive_entry_linkresolver_set_strategy(struct archive_entry_linkresolver *a0, int a1)
{
	REAL(archive_entry_linkresolver_set_strategy)(a0, a1);
}

static void *p_archive_entry_mode;
mode_t archive_entry_mode(struct archive_entry *a0)
{
	return REAL(archive_entry_mode)(a0);
}

static void *p_archive_entry_mtime;
time_t archive_entry_mtime(struct archive_entry *a0)
{
	return REAL(archive_entry_mtime)(a0);
}

static void *p_archive_entry_mtime_is_set;
int archive_entry_mtime_is_set(struct archive_entry *a0)
{
	return REAL(archive_entry_mtime_is_set)(a0);
}

static void *p_archive_entry_mtime_nsec;
long archive_entry_mtime_nsec(struct archive_entry *a0)
{
	return REAL(archive_entry_mtime_nsec)(a0);
}

static void *p_archive_entry_new;
struct archive_entry *archive_entry_new(void)
{
	return REAL(archive_entry_new)();
}

static void *p_archive_entry_pathname;
const char *archive_entry_pathname(struct archive_entry *a0)
{
	return REAL(archive_entry_pathname)(a0);
}

static void *p_archive_entry_perm;
mode_t archive_entry_perm(struct archive_entry *a0)
{
	return REAL(archive_entry_perm)(a0);
}

static void *p_archive_entry_rdev;
dev_t archive_entry_rdev(struct archive_entry *a0)
{
	return REAL(archive_entry_rdev)(a0);
}

static void *p_archive_entry_set_gid;
void archive_entry_set_gid(struct archive_entry *a0, la_int64_t a1)
{
	REAL(archive_entry_set_gid)(a0, a1);
}

static void *p_archive_entry_set_mode;
void archive_entry_set_mode(struct archive_entry *a0, mode_t a1)
{
	REAL(archive_entry_set_mode)(a0, a1);
}

static void *p_archive_entry_set_mtime;
void archive_entry_set_mtime(struct archive_entry *a0, time_t a1, long a2)
{
	REAL(archive_entry_set_mtime)(a0, a1, a2);
}

static void *p_archive_entry_set_pathname;
void archive_entry_set_pathname(struct archive_entry *a0, const char *a1)
{
	REAL(archive_entry_set_pathname)(a0, a1);
}

static void *p_archive_entry_set_rdev;
void archive_entry_set_rdev(struct archive_entry *a0, dev_t a1)
{
	REAL(archive_entry_set_rdev)(a0, a1);
}

static void *p_archive_entry_set_size;
void archive_entry_set_size(struct archive_entry *a0, la_int64_t a1)
{
	REAL(archive_entry_set_size)(a0, a1);
}

static void *p_archive_entry_set_uid;
void archive_entry_set_uid(struct archive_entry *a0, la_int64_t a1)
{
	REAL(archive_entry_set_uid)(a0, a1);
}

static void *p_archive_entry_size;
la_int64_t archive_entry_size(struct archive_entry *a0)
{
	return REAL(archive_entry_size)(a0);
}

static void *p_archive_entry_size_is_set;
int archive_entry_size_is_set(struct archive_entry *a0)
{
	return REAL(archive_entry_size_is_set)(a0);
}

static void *p_archive_entry_symlink;
const char *archive_entry_symlink(struct archive_entry *a0)
{
	return REAL(archive_entry_symlink)(a0);
}

static void *p_archive_entry_uid;
la_int64_t archive_entry_uid(struct archive_entry *a0)
{
	return REAL(archive_entry_uid)(a0);
}

static void *p_archive_entry_xattr_add_entry;
void archive_entry_xattr_add_entry(struct archive_entry *a0, const char *a1, const void *a2,
                                   size_t a3)
{
	REAL(archive_entry_xattr_add_entry)(a0, a1, a2, a3);
}

static void *p_archive_entry_xattr_next;
int archive_entry_xattr_next(struct archive_entry *a0, const char **a1, const void **a2, size_t *a3)
{
	return REAL(archive_entry_xattr_next)(a0, a1, a2, a3);
}

static void *p_archive_entry_xattr_reset;
int archive_entry_xattr_reset(struct archive_entry *a0)
{
	return REAL(archive_entry_xattr_reset)(a0);
}

static void *p_archive_errno;
int archive_errno(struct archive *a0)
{
	return REAL(archive_errno)(a0);
}

static void *p_archive_error_string;
const char *archive_error_string(struct archive *a0)
{
	return REAL(archive_error_string)(a0);
}

static void *p_archive_format;
int archive_format(struct archive *a0)
{
	return REAL(archive_format)(a0);
}

static void *p_archive_read_data;
la_ssize_t archive_read_data(struct archive *a0, void *a1, size_t a2)
{
	return REAL(archive_read_data)(a0, a1, a2);
}

static void *p_archive_read_data_block;
int archive_read_data_block(struct archive *a0, const void **a1, size_t *a2, la_int64_t *a3)
{
	return REAL(archive_read_data_block)(a0, a1, a2, a3);
}

static void *p_archive_read_data_skip;
int archive_read_data_skip(struct archive *a0)
{
	return REAL(archive_read_data_skip)(a0);
}

static void *p_archive_read_disk_descend;
int archive_read_disk_descend(struct archive *a0)
{
	return REAL(archive_read_disk_descend)(a0);
}

static void *p_archive_read_disk_new;
struct archive *archive_read_disk_new(void)
{
	return REAL(archive_read_disk_new)();
}

static void *p_archive_read_disk_open;
int archive_read_disk_open(struct archive *a0, const char *a1)
{
	return REAL(archive_read_disk_open)(a0, a1);
}

static void *p_archive_read_disk_set_behavior;
int archive_read_disk_set_behavior(struct archive *a0, int a1)
{
	return REAL(archive_read_disk_set_behavior)(a0, a1);
}

static void *p_archive_read_disk_set_symlink_physical;
int archive_read_disk_set_symlink_physical(struct archive *a0)
{
	return REAL(archive_read_disk_set_symlink_physical)(a0);
}

static void *p_archive_read_free;
int archive_read_free(struct archive *a0)
{
	return REAL(archive_read_free)(a0);
}

static void *p_archive_read_new;
struct archive *archive_read_new(void)
{
	return REAL(archive_read_new)();
}

static void *p_archive_read_next_header;
int archive_read_next_header(struct archive *a0, struct archive_entry **a1)
{
	return REAL(archive_read_next_header)(a0, a1);
}

static void *p_archive_read_next_header2;
int archive_read_next_header2(struct archive *a0, struct archive_entry *a1)
{
	return REAL(archive_read_next_header2)(a0, a1);
}

static void *p_archive_read_open;
int archive_read_open(struct archive *a0, void *a1, archive_open_callback *a2,
                      archive_read_callback *a3, archive_close_callback *a4)
{
	return REAL(archive_read_open)(a0, a1, a2, a3, a4);
}

static void *p_archive_read_open_fd;
int archive_read_open_fd(struct archive *a0, int a1, size_t a2)
{
	return REAL(archive_read_open_fd)(a0, a1, a2);
}

static void *p_archive_read_open_filename;
int archive_read_open_filename(struct archive *a0, const char *a1, size_t a2)
{
	return REAL(archive_read_open_filename)(a0, a1, a2);
}

static void *p_archive_read_support_filter_all;
int archive_read_support_filter_all(struct archive *a0)
{
	return REAL(archive_read_support_filter_all)(a0);
}

static void *p_archive_read_support_filter_bzip2;
int archive_read_support_filter_bzip2(struct archive *a0)
{
	return REAL(archive_read_support_filter_bzip2)(a0);
}

static void *p_archive_read_support_filter_compress;
int archive_read_support_filter_compress(struct archive *a0)
{
	return REAL(archive_read_support_filter_compress)(a0);
}

static void *p_archive_read_support_filter_gzip;
int archive_read_support_filter_gzip(struct archive *a0)
{
	return REAL(archive_read_support_filter_gzip)(a0);
}

static void *p_archive_read_support_filter_lz4;
int archive_read_support_filter_lz4(struct archive *a0)
{
	return REAL(archive_read_support_filter_lz4)(a0);
}

static void *p_archive_read_support_filter_lzip;
int archive_read_support_filter_lzip(struct archive *a0)
{
	return REAL(archive_read_support_filter_lzip)(a0);
}

static void *p_archive_read_support_filter_lzma;
int archive_read_support_filter_lzma(struct archive *a0)
{
	return REAL(archive_read_support_filter_lzma)(a0);
}

static void *p_archive_read_support_filter_xz;
int archive_read_support_filter_xz(struct archive *a0)
{
	return REAL(archive_read_support_filter_xz)(a0);
}

static void *p_archive_read_support_filter_zstd;
int archive_read_support_filter_zstd(struct archive *a0)
{
	return REAL(archive_read_support_filter_zstd)(a0);
}

static void *p_archive_read_support_format_7zip;
int archive_read_support_format_7zip(struct archive *a0)
{
	return REAL(archive_read_support_format_7zip)(a0);
}

static void *p_archive_read_support_format_cpio;
int archive_read_support_format_cpio(struct archive *a0)
{
	return REAL(archive_read_support_format_cpio)(a0);
}

static void *p_archive_read_support_format_gnutar;
int archive_read_support_format_gnutar(struct archive *a0)
{
	return REAL(archive_read_support_format_gnutar)(a0);
}

static void *p_archive_read_support_format_tar;
int archive_read_support_format_tar(struct archive *a0)
{
	return REAL(archive_read_support_format_tar)(a0);
}

static void *p_archive_read_support_format_zip;
int archive_read_support_format_zip(struct archive *a0)
{
	return REAL(archive_read_support_format_zip)(a0);
}

static void *p_archive_set_error;
void archive_set_error(struct archive *a, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	REAL(archive_set_error)(a, code, "%s", msg);
}

static void *p_archive_write_add_filter_zstd;
int archive_write_add_filter_zstd(struct archive *a0)
{
	return REAL(archive_write_add_filter_zstd)(a0);
}

static void *p_archive_write_close;
int archive_write_close(struct archive *a0)
{
	return REAL(archive_write_close)(a0);
}

static void *p_archive_write_data;
la_ssize_t archive_write_data(struct archive *a0, const void *a1, size_t a2)
{
	return REAL(archive_write_data)(a0, a1, a2);
}

static void *p_archive_write_fail;
int archive_write_fail(struct archive *a0)
{
	return REAL(archive_write_fail)(a0);
}

static void *p_archive_write_finish_entry;
int archive_write_finish_entry(struct archive *a0)
{
	return REAL(archive_write_finish_entry)(a0);
}

static void *p_archive_write_free;
int archive_write_free(struct archive *a0)
{
	return REAL(archive_write_free)(a0);
}

static void *p_archive_write_header;
int archive_write_header(struct archive *a0, struct archive_entry *a1)
{
	return REAL(archive_write_header)(a0, a1);
}

static void *p_archive_write_new;
struct archive *archive_write_new(void)
{
	return REAL(archive_write_new)();
}

static void *p_archive_write_open;
int archive_write_open(struct archive *a0, void *a1, archive_open_callback *a2,
                       archive_write_callback *a3, archive_close_callback *a4)
{
	return REAL(archive_write_open)(a0, a1, a2, a3, a4);
}

static void *p_archive_write_set_bytes_in_last_block;
int archive_write_set_bytes_in_last_block(struct archive *a0, int a1)
{
	return REAL(archive_write_set_bytes_in_last_block)(a0, a1);
}

static void *p_archive_write_set_bytes_per_block;
int archive_write_set_bytes_per_block(struct archive *a0, int a1)
{
	return REAL(archive_write_set_bytes_per_block)(a0, a1);
}

static void *p_archive_write_set_filter_option;
int archive_write_set_filter_option(struct archive *a0, const char *a1, const char *a2,
                                    const char *a3)
{
	return REAL(archive_write_set_filter_option)(a0, a1, a2, a3);
}

static void *p_archive_write_set_format_pax;
int archive_write_set_format_pax(struct archive *a0)
{
	return REAL(archive_write_set_format_pax)(a0);
}

static void *p_archive_write_set_format_pax_restricted;
int archive_write_set_format_pax_restricted(struct archive *a0)
{
	return REAL(archive_write_set_format_pax_restricted)(a0);
}

static void *p_archive_write_set_options;
int archive_write_set_options(struct archive *a0, const char *a1)
{
	return REAL(archive_write_set_options)(a0, a1);
}
