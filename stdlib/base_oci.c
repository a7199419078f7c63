/*
 * oci(path, [tag]): an image read from an OCI image layout on the build
 * machine (what output oci writes, skopeo copies, umoci unpacks): its
 * layers become the root filesystem, its config the starting config.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"path", "path", true, NULL,
     "directory of the OCI image layout on the build machine, relative to the .img file"},
    {"tag", "string", false, NULL,
     "which image of the layout, by its tag (e.g. \"base:1\"); needed if it holds several"},
    {0},
};

const struct kiln_schema base_oci_schema = {
    .kind = SCHEMA_BASE,
    .name = "oci",
    .doc = "an image from an OCI image layout",
    .args = args,
    .inputs = (const char *const[]){"path", NULL},
    .example = "image app from oci(\"out/base\", tag = \"base:1\") {}",
};
