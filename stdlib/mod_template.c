/*
 * template: render a template file of the build machine ({{ expr }},
 * {% for %}, {% if %}, with the same expressions as .img files) and write
 * the result on the target (Ansible's template). The label is a free
 * description.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"src", "path", true, NULL, "the template on the build machine, relative to the .img file"},
    {"dest", "string", true, NULL, "path on the target to write the result to"},
    {"mode", "mode", false, NULL, "permission bits of dest, e.g. 0644"},
    {"owner", "string", false, NULL, "user owning dest"},
    {"group", "string", false, NULL, "group owning dest"},
    {0},
};

const struct kiln_schema mod_template_schema = {
    .kind = SCHEMA_MODULE,
    .name = "template",
    .doc = "render a template from the build machine into a file on the target",
    .label = NULL,
    .args = args,
    .example = "template \"apache ports\" { src = \"templates/ports.conf.tmpl\", dest = "
               "\"/etc/apache2/ports.conf\" }",
};
