/*
 * apt: install, upgrade or remove Debian packages with apt-get (Ansible's
 * apt). The label is a free description.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"name", "string|list<string>", false, NULL,
     "a package or a list of packages; \"pkg=1.2-3\" pins a version"},
    {"packages", "list<string>", false, NULL, "a list of packages, as name"},
    {"state", "enum(present, absent, latest)", false, "\"present\"",
     "present: installed; latest: installed and upgraded; absent: removed"},
    {"update_cache", "bool", false, "false", "run apt-get update first"},
    {"install_recommends", "bool", false, "false", "also install recommended packages"},
    {0},
};

static const char *const one_of[] = {"name|packages", NULL};

const struct kiln_schema mod_apt_schema = {
    .kind = SCHEMA_MODULE,
    .name = "apt",
    .doc = "install, upgrade or remove Debian packages",
    .label = NULL,
    .args = args,
    .one_of = one_of,
    .example = "apt \"install the web server\" { packages = [\"apache2\", \"curl\"], update_cache "
               "= true }",
};
