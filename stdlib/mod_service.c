/*
 * service: whether a service starts at boot and whether it runs now
 * (Ansible's service), through systemd or the init scripts of the target.
 * The label is a free description.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"name", "string", true, NULL, "the service, e.g. \"ssh\" or \"apache2\""},
    {"enabled", "bool", false, NULL, "whether it starts at boot"},
    {"state", "enum(started, stopped, restarted, reloaded)", false, NULL,
     "started, stopped: its state now; restarted, reloaded: always act (as handlers do)"},
    {0},
};

const struct kiln_schema mod_service_schema = {
    .kind = SCHEMA_MODULE,
    .name = "service",
    .doc = "enable, disable, start, stop, restart or reload a service",
    .label = NULL,
    .args = args,
    .example = "service \"start apache at boot\" { name = \"apache2\", enabled = true }",
};
