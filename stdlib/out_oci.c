/*
 * output oci: the image as an OCI image layout (a directory), the format
 * skopeo, podman, umoci and registries read. The label is the path.
 */
#include "entries.h"

static const struct kiln_arg_check checks[] = {{"tag", stdlib_reference_check}, {0}};

static const struct kiln_arg args[] = {
    {"path", "path", true, NULL,
     "directory to write the layout to, relative to the .img file; the label sets it"},
    {"tag", "string|list<string>", false, NULL,
     "tag or tags of the image in the layout, e.g. \"app:1.0\""},
    {"compression", "enum(gzip, zstd)", false, "\"gzip\"",
     "how layers are compressed: gzip (every client reads it) or zstd (faster and smaller; "
     "skopeo 1.9 and podman read it, umoci 0.4.7 does not)"},
    {"compression_level", "int", false, "0",
     "the compressor's level: gzip 1 (fastest) to 9, zstd 1 to 19; 0: gzip 1, zstd 3"},
    {0},
};

const struct kiln_schema out_oci_schema = {
    .kind = SCHEMA_OUTPUT,
    .name = "oci",
    .doc = "write the image as an OCI image layout directory",
    .label = "path",
    .args = args,
    .checks = checks,
    .example = "output oci \"out/app\" { tag = [\"app:1.0\", \"app:latest\"] }",
    .needs_layers = true,
    .merges = true,
};
