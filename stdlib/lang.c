/*
 * lang: the language's own attributes, facts and keywords (see lang.h).
 */
#include "lang.h"

#include "strbuf.h"

#include <stdbool.h>
#include <string.h>

const struct kiln_attr stdlib_config_attrs[] = {
    {"entrypoint", "list<string>", "the program the container runs (Dockerfile ENTRYPOINT)"},
    {"cmd", "list<string>", "its default arguments, or the command (Dockerfile CMD)"},
    {"env", "map<string>", "environment variables (Dockerfile ENV)"},
    {"workdir", "string", "the working directory (Dockerfile WORKDIR)"},
    {"user", "string", "the user the container runs as (Dockerfile USER)"},
    {"expose", "list<int|string>", "ports the container listens on: 80 or \"53/udp\" (EXPOSE)"},
    {"labels", "map<string>", "image labels (Dockerfile LABEL)"},
    {"volumes", "list<string>", "directories meant as volumes (Dockerfile VOLUME)"},
    {"stop_signal", "string", "the signal that stops the container (Dockerfile STOPSIGNAL)"},
    {NULL, NULL, NULL}};

const struct kiln_attr stdlib_connection_attrs[] = {
    {"address", "string", "where to connect: a name or IP address (Ansible's ansible_host)"},
    {"user", "string", "the user to log in as (ansible_user)"},
    {"port", "int", "the SSH port (default 22)"},
    {"identity_file", "path", "the private key file to log in with"},
    {"known_hosts", "path", "the known_hosts file host keys are checked against"},
    {"become", "bool", "run the tasks as another user with sudo"},
    {"vars", "map<any>", "values for the host's tasks"},
    {"parallel", "int", "how many hosts are configured at once"},
    {"password", "secret", "the login password (a secret param)"},
    {"connection", "enum(ssh, rootfs)",
     "how kiln reaches the host: ssh (the default), or rootfs: the host's name is a "
     "directory holding a root filesystem, entered like an image's (chroot)"},
    {NULL, NULL, NULL}};

const struct kiln_attr stdlib_image_attrs[] = {{"description", "string", "what the image is for"},
                                               {NULL, NULL, NULL}};

const struct kiln_attr stdlib_param_attrs[] = {{"description", "string", "what the param sets"},
                                               {NULL, NULL, NULL}};

const struct kiln_attr stdlib_task_attrs[] = {
    {"notify", "list<handler>",
     "handlers to run once at the end of the stage when this task changed something: "
     "notify = [restart_apache]"},
    {"ignore_errors", "bool", "a failure of this task does not stop the build"},
    {NULL, NULL, NULL}};

const struct kiln_attr stdlib_facts[] = {
    {"os.family", "string",
     "the OS family: the first word of os-release's ID_LIKE, else its ID (\"debian\")"},
    {"os.distribution", "string", "os-release's ID: \"debian\", \"ubuntu\""},
    {"os.version", "string", "os-release's VERSION_ID: \"12\""},
    {"os.codename", "string", "os-release's VERSION_CODENAME: \"bookworm\""},
    {"os.id", "string", "os-release's ID"},
    {"arch", "string", "the machine's architecture as Debian names it: \"amd64\", \"arm64\""},
    {"hostname", "string", "the host name (\"kiln-build\" while an image is baked)"},
    {"kernel", "string", "the running kernel's release (uname -r)"},
    {NULL, NULL, NULL}};

const struct kiln_attr stdlib_keywords[] = {
    {"param", NULL, "declares an input of the build: param NAME: TYPE = DEFAULT"},
    {"let", NULL, "names a value: let NAME = EXPR"},
    {"import", NULL, "reads another file into the build: import \"FILE\""},
    {"role", NULL, "a reusable list of tasks with params: role NAME(PARAMS) { ... }"},
    {"image", NULL, "an image to bake: image NAME from BASE { ... }"},
    {"from", NULL, "what an image starts from: a base call or another image"},
    {"stage", NULL, "a cached step of an image: stage NAME { tasks }"},
    {"handler", NULL, "a task that runs when notified: handler NAME { tasks }"},
    {"for", NULL, "repeats a task over a list or map: for x in EXPR"},
    {"in", NULL, "the list or map of a for"},
    {"when", NULL, "runs a task only if a condition holds: when EXPR"},
    {"use", NULL, "includes a role's tasks: use ROLE(ARGS)"},
    {"config", NULL, "the image's run-time configuration: config { ... }"},
    {"output", NULL, "an artifact the image is written as: output KIND \"PATH\" { ... }"},
    {"test", NULL, "tasks that check the finished image: test \"NAME\" { ... }"},
    {"hosts", NULL, "a group of running hosts: hosts NAME { ... }"},
    {"inventory", NULL, "reads host groups from an Ansible INI inventory: inventory \"FILE\""},
    {"apply", NULL, "tasks to run on a group of hosts: apply GROUP { ... }"},
    {"true", NULL, "the bool value true"},
    {"false", NULL, "the bool value false"},
    {"null", NULL, "no value: the argument keeps its default"},
    {"object", NULL, "an object type: object { NAME: TYPE, ... }"},
    {NULL, NULL, NULL}};

const struct kiln_attr stdlib_types[] = {
    {"any", NULL, "any value"},
    {"bool", NULL, "true or false"},
    {"int", NULL, "a 64-bit integer"},
    {"string", NULL, "text"},
    {"secret", NULL, "text that is never printed and never written in clear to a plan"},
    {"path", NULL, "a file system path"},
    {"mode", NULL, "a file mode: 0644, \"0644\" or an absolute symbolic mode \"u=rw,go=r\""},
    {"list<T>", NULL, "[a, b, c], every element of type T"},
    {"map<T>", NULL, "{ key = value, ... }, every value of type T"},
    {"object { name: T, ... }", NULL, "{ name = ..., ... } with exactly these fields"},
    {"enum(a, b)", NULL, "one of the listed bare identifiers"},
    {NULL, NULL, NULL}};

const char *stdlib_facts_type(void)
{
	static char *text;
	if (text)
		return text;
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "object(");
	for (const struct kiln_attr *f = stdlib_facts; f->name; f++) {
		const char *dot = strchr(f->name, '.');
		size_t plen = dot ? (size_t)(dot - f->name) : 0;
		bool same_group =
		    dot && f > stdlib_facts && !strncmp(f[-1].name, f->name, plen + 1);
		bool group_ends = dot && (!f[1].name || strncmp(f[1].name, f->name, plen + 1));
		if (f > stdlib_facts)
			sb_adds(&sb, ", ");
		if (dot && !same_group)
			sb_addf(&sb, "%.*s: object(", (int)plen, f->name);
		sb_addf(&sb, "%s: %s", dot ? dot + 1 : f->name, f->type);
		if (group_ends)
			sb_adds(&sb, ")");
	}
	sb_adds(&sb, ")");
	text = sb_detach(&sb);
	return text;
}
