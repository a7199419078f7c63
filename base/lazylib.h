/*
 * lazylib: a shared library loaded on first use. kiln does not link
 * libarchive, libssh and libcrypto: with what they pull in (libxml2, ICU, libstdc++,
 * Kerberos) they cost milliseconds at every start, and most runs (lint,
 * compile, an apply that touches no archive and no SSH host) need none.
 * base/lazy_archive.c, lazy_ssh.c and lazy_crypto.c, written by tools/gen-lazy.py,
 * define the functions kiln calls as wrappers that call lazylib_sym.
 *
 * lazylib_sym loads the library (dlopen, once, thread-safe) and returns the
 * function; if the library or the function is missing it prints what is
 * missing and how to install it, and exits with status 1: kiln cannot go on
 * without a function it is about to call.
 */
#ifndef KILN_LAZYLIB_H
#define KILN_LAZYLIB_H

struct lazylib {
	const char *soname;
	void *handle;
};

#define LAZYLIB_INIT(soname)                                                                       \
	{                                                                                          \
		(soname), NULL                                                                     \
	}

void *lazylib_sym(struct lazylib *lib, const char *name);

/* The function name of lib, looked up once and kept in *slot. */
static inline void *lazylib_cached(struct lazylib *lib, void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		f = lazylib_sym(lib, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

#endif
