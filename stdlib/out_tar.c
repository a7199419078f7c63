/*
 * output tar: the image's root filesystem as one tar archive, with sorted
 * entries and normalised metadata so the same inputs give the same bytes.
 * The label is the path.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"path", "path", true, NULL,
     "the archive to write, relative to the .img file; the label sets it"},
    {"compression", "enum(auto, none, gzip, zstd)", false, "\"auto\"",
     "auto: by the path's extension (.gz or .tgz gzip, .zst zstd, else none)"},
    {0},
};

const struct kiln_schema out_tar_schema = {
    .kind = SCHEMA_OUTPUT,
    .name = "tar",
    .doc = "write the image's root filesystem as a tar archive",
    .label = "path",
    .args = args,
    .example = "output tar \"out/app.tar.zst\" {}",
};
