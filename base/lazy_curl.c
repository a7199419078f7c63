/*
 * lazy_curl: libcurl loaded on first use. Written by tools/gen-lazy.py from
 * libcurl's headers; do not edit: run `tools/gen-lazy.py curl build` again after
 * calling a function of libcurl that is not here (see lazylib.h).
 */
#include "lazylib.h"

#include <stdarg.h>
#include <stdio.h>
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

static struct lazylib lib = LAZYLIB_INIT("libcurl.so.4");

#define REAL(name) ((__typeof__(name) *)lazylib_cached(&lib, &p_##name, #name))

static void *p_curl_easy_cleanup;
void curl_easy_cleanup(CURL *a0)
{
	REAL(curl_easy_cleanup)(a0);
}

static void *p_curl_easy_escape;
char *curl_easy_escape(CURL *a0, const char *a1, int a2)
{
	return REAL(curl_easy_escape)(a0, a1, a2);
}

static void *p_curl_easy_getinfo;
CURLcode curl_easy_getinfo(CURL *a0, CURLINFO a1, ...)
{
	va_list ap;
	va_start(ap, a1);
	void *p = va_arg(ap, void *);
	va_end(ap);
	return REAL(curl_easy_getinfo)(a0, a1, p);
}

static void *p_curl_easy_init;
CURL *curl_easy_init(void)
{
	return REAL(curl_easy_init)();
}

static void *p_curl_easy_perform;
CURLcode curl_easy_perform(CURL *a0)
{
	return REAL(curl_easy_perform)(a0);
}

static void *p_curl_easy_reset;
void curl_easy_reset(CURL *a0)
{
	REAL(curl_easy_reset)(a0);
}

static void *p_curl_easy_setopt;
CURLcode curl_easy_setopt(CURL *a0, CURLoption a1, ...)
{
	va_list ap;
	CURLcode r;
	va_start(ap, a1);
	if (a1 < CURLOPTTYPE_OBJECTPOINT)
		r = REAL(curl_easy_setopt)(a0, a1, va_arg(ap, long));
	else if (a1 < CURLOPTTYPE_FUNCTIONPOINT || a1 >= CURLOPTTYPE_BLOB)
		r = REAL(curl_easy_setopt)(a0, a1, va_arg(ap, void *));
	else if (a1 < CURLOPTTYPE_OFF_T)
		r = REAL(curl_easy_setopt)(a0, a1, va_arg(ap, void (*)(void)));
	else
		r = REAL(curl_easy_setopt)(a0, a1, va_arg(ap, curl_off_t));
	va_end(ap);
	return r;
}

static void *p_curl_easy_strerror;
const char *curl_easy_strerror(CURLcode a0)
{
	return REAL(curl_easy_strerror)(a0);
}

static void *p_curl_free;
void curl_free(void *a0)
{
	REAL(curl_free)(a0);
}

static void *p_curl_global_init;
CURLcode curl_global_init(long a0)
{
	return REAL(curl_global_init)(a0);
}

static void *p_curl_slist_append;
struct curl_slist *curl_slist_append(struct curl_slist *a0, const char *a1)
{
	return REAL(curl_slist_append)(a0, a1);
}

static void *p_curl_slist_free_all;
void curl_slist_free_all(struct curl_slist *a0)
{
	REAL(curl_slist_free_all)(a0);
}
