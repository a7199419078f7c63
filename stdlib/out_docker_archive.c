/*
 * output docker-archive: the image as a tar archive that `docker load`
 * reads (Packer's docker-import). The label is the path.
 */
#include "entries.h"

static const struct kiln_arg_check checks[] = {{"tag", stdlib_reference_check}, {0}};

static const struct kiln_arg args[] = {
    {"path", "path", true, NULL,
     "the archive to write, relative to the .img file; the label sets it"},
    {"tag", "string|list<string>", false, NULL,
     "repository:tag name or names docker load gives the image, e.g. \"my-app:0.1\""},
    {0},
};

const struct kiln_schema out_docker_archive_schema = {
    .kind = SCHEMA_OUTPUT,
    .name = "docker-archive",
    .doc = "write the image as a tar archive for docker load",
    .label = "path",
    .args = args,
    .checks = checks,
    .example = "output docker-archive \"out/app.docker.tar\" { tag = \"my-app:0.1\" }",
    .needs_layers = true,
};
