/*
 * conn_stream: inner, with every command's output also passed, as it arrives,
 * to a function (`kiln apply -v` prints it line by line); see conn.h. Every
 * other operation is inner's.
 */
#include "conn_int.h"

#include "arena.h"

struct conn_stream {
	struct conn conn;
	struct conn *inner;
	void (*fn)(void *data, int stream, const char *p, size_t n);
	void *data;
};

static struct conn *in(struct conn *c)
{
	return ((struct conn_stream *)c)->inner;
}

static int st_exec(struct conn *c, const struct exec_req *req, struct exec_res *ret,
                   struct rt_error *err)
{
	struct conn_stream *s = (struct conn_stream *)c;
	struct exec_req r = *req;
	r.on_output = s->fn;
	r.on_output_data = s->data;
	return in(c)->ops->exec(in(c), &r, ret, err);
}

static int st_read(struct conn *c, const char *path, size_t max, char **ret_data, size_t *ret_len,
                   struct rt_error *err)
{
	return in(c)->ops->read(in(c), path, max, ret_data, ret_len, err);
}

static int st_write(struct conn *c, const char *path, const void *data, size_t len,
                    const struct conn_attrs *attrs, struct rt_error *err)
{
	return in(c)->ops->write(in(c), path, data, len, attrs, err);
}

static int st_stat(struct conn *c, const char *path, bool follow, struct conn_stat *ret,
                   struct rt_error *err)
{
	return in(c)->ops->stat(in(c), path, follow, ret, err);
}

static int st_mkdir(struct conn *c, const char *path, const struct conn_attrs *attrs,
                    struct rt_error *err)
{
	return in(c)->ops->mkdir(in(c), path, attrs, err);
}

static int st_chmod(struct conn *c, const char *path, mode_t mode, struct rt_error *err)
{
	return in(c)->ops->chmod(in(c), path, mode, err);
}

static int st_chown(struct conn *c, const char *path, uid_t uid, gid_t gid, struct rt_error *err)
{
	return in(c)->ops->chown(in(c), path, uid, gid, err);
}

static int st_symlink(struct conn *c, const char *target, const char *path, struct rt_error *err)
{
	return in(c)->ops->symlink(in(c), target, path, err);
}

static int st_readlink(struct conn *c, const char *path, char **ret_target, struct rt_error *err)
{
	return in(c)->ops->readlink(in(c), path, ret_target, err);
}

static int st_remove(struct conn *c, const char *path, bool recursive, struct rt_error *err)
{
	return in(c)->ops->remove(in(c), path, recursive, err);
}

static int st_touch(struct conn *c, const char *path, const struct conn_attrs *attrs,
                    struct rt_error *err)
{
	return in(c)->ops->touch(in(c), path, attrs, err);
}

static void st_close(struct conn *c)
{
	free(c);
}

static const struct conn_ops stream_ops = {
    .name = "stream",
    .exec = st_exec,
    .read = st_read,
    .write = st_write,
    .stat = st_stat,
    .mkdir = st_mkdir,
    .chmod = st_chmod,
    .chown = st_chown,
    .symlink = st_symlink,
    .readlink = st_readlink,
    .remove = st_remove,
    .touch = st_touch,
    .close = st_close,
};

struct conn *conn_stream_open(struct conn *inner,
                              void (*fn)(void *data, int stream, const char *p, size_t n),
                              void *data)
{
	struct conn_stream *s = xcalloc(1, sizeof(*s));
	s->conn.ops = &stream_ops;
	s->inner = inner;
	s->fn = fn;
	s->data = data;
	return &s->conn;
}
