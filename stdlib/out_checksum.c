/*
 * output checksum: a file of digests of the image's other outputs, one
 * line each as sha256sum prints it ("DIGEST  PATH"), so `sha256sum -c`
 * checks them. Written after those outputs. The label is the path.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"path", "path", true, NULL,
     "the checksum file to write, relative to the .img file; the label sets it"},
    {"algorithm", "enum(sha256, sha512)", false, "\"sha256\"", "the digest to compute"},
    {"of", "list<string>", false, NULL,
     "paths of the image's outputs to sum (a directory: every file in it); default: all"},
    {0},
};

const struct kiln_schema out_checksum_schema = {
    .kind = SCHEMA_OUTPUT,
    .name = "checksum",
    .doc = "write the digests of the image's other outputs, as sha256sum does",
    .label = "path",
    .args = args,
    .example = "output checksum \"out/app.sha256\" { of = [\"out/app.tar.zst\"] }",
    .records = 1,
};
