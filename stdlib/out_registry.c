/*
 * output registry: push the image to a registry over the OCI distribution
 * API (runtime/output_registry.c). The label is the repository (the
 * output's "path" in the plan).
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"path", "string", true, NULL,
     "the repository to push to, e.g. \"registry.example.com/team/app\" (a name alone is "
     "docker.io/library/NAME); the label sets it"},
    {"tags", "string|list<string>", false, NULL,
     "the tags to write, after the image is in; default: the label's tag, else \"latest\""},
    {"insecure", "bool", false, "false", "plain HTTP instead of HTTPS (a test registry)"},
    {"ca_file", "string", false, NULL,
     "a PEM file of the CA that signed the registry's certificate, relative to the main "
     ".img file's directory"},
    {"username", "string", false, NULL,
     "log in as this user; default: the auth file's entry (REGISTRY_AUTH_FILE, "
     "~/.docker/config.json), else anonymous"},
    {"password", "secret", false, NULL, "the user's password or token (a secret param)"},
    {0},
};

const struct kiln_schema out_registry_schema = {
    .kind = SCHEMA_OUTPUT,
    .name = "registry",
    .doc = "push the image to a container registry (OCI distribution API)",
    .label = "path",
    .args = args,
    .example = "output registry \"reg.example.com/app\" { tags = [\"1.0\"], username = \"ci\", "
               "password = pw }",
    .needs_layers = true,
};
