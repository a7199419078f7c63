/*
 * secret: what the stage cache keeps of a secret. A stage's key covers the
 * secrets its tasks and handlers read, each as HMAC-SHA256 under a random
 * key of the cache directory (CACHE/secret-key, 32 bytes, mode 0600), so a
 * stage key seen in a log or a file name neither reveals a weak secret to an
 * offline guess nor changes when a secret the stage does not read does.
 */
#ifndef KILN_SECRET_H
#define KILN_SECRET_H

#include "rt.h"

#include <jansson.h>
#include <stdbool.h>

#define SECRET_KEY_LEN 32

/* Read CACHE/secret-key, or with create, make it (and the cache directory) when
   it does not exist. Refuses a key that is not a regular file owned by us, mode
   0600, of 32 bytes. Returns 0, -ENOENT (absent, create false), or < 0 with *err. */
int secret_key_load(const char *cache_dir, bool create, unsigned char key[SECRET_KEY_LEN],
                    struct rt_error *err);

/* The names of the secrets plan value v reads ({"secret": NAME} in a
   {"$expr": ...} anywhere in it) are set to true in names. */
void secret_refs(json_t *v, json_t *names);

/* hex HMAC-SHA256 under key of name and value (malloc'd). */
char *secret_mac(const unsigned char key[SECRET_KEY_LEN], const char *name, const char *value);

#endif
