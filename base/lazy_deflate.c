/*
 * lazy_deflate: libdeflate loaded on first use. Written by tools/gen-lazy.py from
 * libdeflate's headers; do not edit: run `tools/gen-lazy.py deflate build` again after
 * calling a function of libdeflate that is not here (see lazylib.h).
 */
#include "lazylib.h"

#include <stdarg.h>
#include <stdio.h>
#include <libdeflate.h>

static struct lazylib lib = LAZYLIB_INIT("libdeflate.so.0");

#define REAL(name) ((__typeof__(name) *)lazylib_cached(&lib, &p_##name, #name))

static void *p_libdeflate_alloc_compressor;
struct libdeflate_compressor *libdeflate_alloc_compressor(int a0)
{
	return REAL(libdeflate_alloc_compressor)(a0);
}

static void *p_libdeflate_crc32;
uint32_t libdeflate_crc32(uint32_t a0, const void *a1, size_t a2)
{
	return REAL(libdeflate_crc32)(a0, a1, a2);
}

static void *p_libdeflate_deflate_compress;
size_t libdeflate_deflate_compress(struct libdeflate_compressor *a0, const void *a1, size_t a2,
                                   void *a3, size_t a4)
{
	return REAL(libdeflate_deflate_compress)(a0, a1, a2, a3, a4);
}

static void *p_libdeflate_deflate_compress_bound;
size_t libdeflate_deflate_compress_bound(struct libdeflate_compressor *a0, size_t a1)
{
	return REAL(libdeflate_deflate_compress_bound)(a0, a1);
}

static void *p_libdeflate_free_compressor;
void libdeflate_free_compressor(struct libdeflate_compressor *a0)
{
	REAL(libdeflate_free_compressor)(a0);
}
