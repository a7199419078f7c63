/*
 * user: a user account on the target, present or absent (Ansible's user).
 * The label is a free description.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"name", "string", true, NULL, "the user's login name"},
    {"uid", "int", false, NULL, "the user id; default: the next free one"},
    {"group", "string", false, NULL, "the primary group; default: as useradd decides"},
    {"groups", "list<string>", false, NULL,
     "supplementary groups: exactly these, or also these with append = true"},
    {"append", "bool", false, "false", "add the user to groups, leaving its other groups alone"},
    {"comment", "string", false, NULL, "the GECOS field, e.g. the full name"},
    {"shell", "string", false, NULL, "the login shell, e.g. \"/bin/bash\""},
    {"home", "string", false, NULL, "the home directory; default: /home/NAME"},
    {"create_home", "bool", false, "true", "create the home directory when it does not exist"},
    {"system", "bool", false, "false", "a system account (uid below UID_MIN, no aging)"},
    {"password", "secret", false, NULL,
     "the password as a crypt(3) hash, as in /etc/shadow (mkpasswd -m yescrypt)"},
    {"state", "enum(present, absent)", false, "\"present\"", "whether the account exists"},
    {0},
};

const struct kiln_schema mod_user_schema = {
    .kind = SCHEMA_MODULE,
    .name = "user",
    .doc = "create, change or remove a user account",
    .label = NULL,
    .args = args,
    .example = "user \"add the deploy user\" { name = \"deploy\", groups = [\"sudo\"], shell = "
               "\"/bin/bash\" }",
};
