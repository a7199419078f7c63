/*
 * output manifest: a JSON file describing the build and its artifacts
 * (Packer's manifest post-processor): image name, outputs with their paths
 * and digests, kiln's version, SOURCE_DATE_EPOCH. The label is the path.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"path", "path", true, NULL,
     "the JSON file to write, relative to the .img file; the label sets it"},
    {"custom_data", "map<string>", false, NULL, "more key/value pairs copied into the manifest"},
    {0},
};

const struct kiln_schema out_manifest_schema = {
    .kind = SCHEMA_OUTPUT,
    .name = "manifest",
    .doc = "write a JSON manifest of the build and its artifacts",
    .label = "path",
    .args = args,
    .example = "output manifest \"out/app.manifest.json\" { custom_data = { team = \"web\" } }",
    .records = 2,
};
