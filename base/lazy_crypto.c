/*
 * lazy_crypto: OpenSSL's libcrypto loaded on first use. Written by tools/gen-lazy.py from
 * OpenSSL's libcrypto's headers; do not edit: run `tools/gen-lazy.py crypto build` again after
 * calling a function of OpenSSL's libcrypto that is not here (see lazylib.h).
 */
#include "lazylib.h"

#include <stdarg.h>
#include <stdio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static struct lazylib lib = LAZYLIB_INIT("libcrypto.so.3");

#define REAL(name) ((__typeof__(name) *)lazylib_cached(&lib, &p_##name, #name))

static void *p_EVP_DecodeBlock;
int EVP_DecodeBlock(unsigned char *a0, const unsigned char *a1, int a2)
{
	return REAL(EVP_DecodeBlock)(a0, a1, a2);
}

static void *p_EVP_Digest;
int EVP_Digest(const void *a0, size_t a1, unsigned char *a2, unsigned int *a3, const EVP_MD *a4,
               ENGINE *a5)
{
	return REAL(EVP_Digest)(a0, a1, a2, a3, a4, a5);
}

static void *p_EVP_DigestFinal_ex;
int EVP_DigestFinal_ex(EVP_MD_CTX *a0, unsigned char *a1, unsigned int *a2)
{
	return REAL(EVP_DigestFinal_ex)(a0, a1, a2);
}

static void *p_EVP_DigestInit_ex;
int EVP_DigestInit_ex(EVP_MD_CTX *a0, const EVP_MD *a1, ENGINE *a2)
{
	return REAL(EVP_DigestInit_ex)(a0, a1, a2);
}

static void *p_EVP_DigestUpdate;
int EVP_DigestUpdate(EVP_MD_CTX *a0, const void *a1, size_t a2)
{
	return REAL(EVP_DigestUpdate)(a0, a1, a2);
}

static void *p_EVP_EncodeBlock;
int EVP_EncodeBlock(unsigned char *a0, const unsigned char *a1, int a2)
{
	return REAL(EVP_EncodeBlock)(a0, a1, a2);
}

static void *p_EVP_MD_CTX_free;
void EVP_MD_CTX_free(EVP_MD_CTX *a0)
{
	REAL(EVP_MD_CTX_free)(a0);
}

static void *p_EVP_MD_CTX_new;
EVP_MD_CTX *EVP_MD_CTX_new(void)
{
	return REAL(EVP_MD_CTX_new)();
}

static void *p_EVP_get_digestbyname;
const EVP_MD *EVP_get_digestbyname(const char *a0)
{
	return REAL(EVP_get_digestbyname)(a0);
}

static void *p_EVP_sha256;
const EVP_MD *EVP_sha256(void)
{
	return REAL(EVP_sha256)();
}

static void *p_EVP_sha512;
const EVP_MD *EVP_sha512(void)
{
	return REAL(EVP_sha512)();
}

static void *p_HMAC;
unsigned char *HMAC(const EVP_MD *a0, const void *a1, int a2, const unsigned char *a3, size_t a4,
                    unsigned char *a5, unsigned int *a6)
{
	return REAL(HMAC)(a0, a1, a2, a3, a4, a5, a6);
}
