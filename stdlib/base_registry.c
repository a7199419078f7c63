/*
 * registry(ref, [insecure], [ca_file]): an image pulled from a container
 * registry (runtime/base_registry.c): its layers become the root
 * filesystem. A digest pin ("debian@sha256:...") is recommended: it builds
 * the same tree every time, and offline once pulled.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"ref", "string", true, NULL,
     "the image, e.g. \"docker.io/library/debian:bookworm\" or \"reg:5000/app@sha256:...\""},
    {"insecure", "bool", false, "false", "plain HTTP instead of HTTPS (a test registry)"},
    {"ca_file", "path", false, NULL,
     "a PEM file of the CA that signed the registry's certificate, relative to the .img file"},
    {0},
};

const struct kiln_schema base_registry_schema = {
    .kind = SCHEMA_BASE,
    .name = "registry",
    .doc = "an image pulled from a container registry",
    .args = args,
    .inputs = (const char *const[]){"ca_file", NULL},
    .example = "image app from registry(\"docker.io/library/debian:bookworm\") {}",
};
