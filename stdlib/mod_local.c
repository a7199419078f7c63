/*
 * local: run a command line through /bin/sh on the build machine, not the
 * target (Packer's shell-local), e.g. to pack files a later copy uploads.
 * Relative paths, and the default working directory, are those of the
 * .img file. The label is the command line.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"cmd", "string", true, NULL, "the command line, run by /bin/sh -c on the build machine"},
    {"creates", "path", false, NULL, "skip the task when this path exists on the build machine"},
    {"removes", "path", false, NULL,
     "run the task only when this path exists on the build machine"},
    {"chdir", "path", false, NULL, "directory to run in; default: the .img file's directory"},
    {"env", "map<string|secret>", false, NULL, "extra environment variables of the command"},
    {0},
};

const struct kiln_schema mod_local_schema = {
    .kind = SCHEMA_MODULE,
    .name = "local",
    .doc = "run a command line on the build machine, not on the target",
    .label = "cmd",
    .args = args,
    .example = "local \"pack the app\" { cmd = \"tar -czf toupload/app.tar.gz app\" }",
};
