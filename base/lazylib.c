/*
 * lazylib: see lazylib.h. One library handle per struct lazylib, opened by
 * the first lazylib_sym; each wrapper keeps the function it looked up
 * (lazylib_cached), so later calls cost one load and an indirect call.
 */
#include "lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;

void *lazylib_sym(struct lazylib *lib, const char *name)
{
	if (!__atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&open_mu);
		if (!lib->handle) {
			void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
			__atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
			if (!h) {
				fprintf(stderr,
				        "kiln: cannot load %s (%s): install it (Debian: apt-get "
				        "install libarchive13 libssh-4 libssl3 libdeflate0)\n",
				        lib->soname, dlerror());
				exit(1);
			}
		}
		pthread_mutex_unlock(&open_mu);
	}
	void *f = dlsym(lib->handle, name);
	if (!f) {
		fprintf(stderr, "kiln: %s has no function %s: a newer version is needed\n",
		        lib->soname, name);
		exit(1);
	}
	return f;
}
