/*
 * template: render a template file of the build machine ({{ expr }},
 * {% for %}, {% if %}, with the same expressions as .img files) and write
 * the result on the target (Ansible's template). The label fills dest unless the
 * body sets it.
 */
#include "entries.h"
#include "modlib.h"

static const struct kiln_arg args[] = {
    {"src", "path", true, NULL, "the template on the build machine, relative to the .img file"},
    {"dest", "string", true, NULL, "path on the target to write the result to"},
    {"mode", "mode", false, NULL, "permission bits of dest, e.g. 0644"},
    {"owner", "string", false, NULL, "user owning dest"},
    {"group", "string", false, NULL, "group owning dest"},
    {0},
};

/*
 * The compiler renders the template (the plan's args hold the text as content, beside src),
 * so writing it is copy's work with that content.
 */
static int run(struct task_ctx *ctx, struct task_result *res)
{
	if (!task_arg_str(ctx, "content", NULL))
		return task_failed(res,
		                   "template %s was not rendered: the plan has no content for it",
		                   task_arg_str(ctx, "src", "?"));
	json_t *copy = json_deep_copy(ctx->args);
	json_object_del(copy, "src");
	struct task_ctx c = *ctx;
	c.args = copy;
	int r = mod_copy_schema.run(&c, res);
	json_decref(copy);
	return r;
}

const struct kiln_schema mod_template_schema = {
    .kind = SCHEMA_MODULE,
    .name = "template",
    .doc = "render a template from the build machine into a file on the target",
    .label = "dest",
    .args = args,
    .template_arg = "src",
    .example = "template \"apache ports\" { src = \"templates/ports.conf.tmpl\", dest = "
               "\"/etc/apache2/ports.conf\" }",
    .run = run,
};
