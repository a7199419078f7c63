/*
 * apt_repository: an apt source on the target, with the key that signs
 * it, present or absent (Ansible's apt_repository). The label is a free
 * description.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"repo", "string", true, NULL,
     "the source line, e.g. \"deb https://deb.example.com/debian bookworm main\""},
    {"key", "string", false, NULL,
     "the ASCII-armored OpenPGP key that signs the repository (not with key_url)"},
    {"key_url", "string", false, NULL, "where to download that key from (not with key)"},
    {"filename", "string", false, NULL,
     "name of the file in /etc/apt/sources.list.d/, without .list; default: from repo"},
    {"update_cache", "bool", false, "true", "run apt-get update when the sources changed"},
    {"state", "enum(present, absent)", false, "\"present\"", "whether the source is configured"},
    {0},
};

const struct kiln_schema mod_apt_repository_schema = {
    .kind = SCHEMA_MODULE,
    .name = "apt_repository",
    .doc = "add or remove an apt source and its signing key",
    .label = NULL,
    .args = args,
    .example = "apt_repository \"extra\" { repo = \"deb https://example.com/apt stable main\", "
               "key = file(\"k.asc\") }",
};
