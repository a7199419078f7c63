/*
 * conn_ssh: a host over SSH as a target (see conn.h), on libssh.
 *
 * One session per connection, kept for every task: files go over one SFTP
 * session opened with it (a stat is a round trip of well under a millisecond,
 * where a command costs milliseconds), commands over an exec channel each.
 * TCP_NODELAY is set on the socket: without it every exec waits on Nagle's
 * algorithm and the peer's delayed ACK (tens of milliseconds).
 *
 * Host keys are checked against a known_hosts file: an unknown key is refused
 * unless the caller opted in (then it is added), a changed one always.
 * Authentication tries a key file, then the ssh-agent, then a password; no
 * message ever holds the password.
 *
 * A write goes to a new temporary name in the same directory (O_EXCL), is
 * fsync'd when the server has fsync@openssh.com, gets its owner and mode, and
 * is renamed over the old name (libssh uses posix-rename@openssh.com when the
 * server has it, an atomic replace), so a reader sees the old or the new file.
 *
 * A command runs as /bin/sh -c SCRIPT, where SCRIPT prints its process group
 * on the first line of stdout (kiln takes it off again), enters the working
 * directory and runs the command under env -i with the connection's clean
 * environment; with become, through sudo -S with the password as stdin's
 * first line. On a timeout kiln kills that process group with a second
 * command (kill -9 -- -PGID).
 *
 * When the session drops, the next operation reconnects, a bounded number of
 * times with a doubling pause; when that fails the operation returns
 * -EHOSTUNREACH ("unreachable"), which the executor reports as such. An
 * operation that only looks or replaces whole files is tried again once after
 * a reconnect; a command is not (it may have run).
 */
#include "conn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct conn_ssh {
	struct conn conn;
	struct ssh_opts o; /* strings owned */
	char *where;       /* "user@host:port" for messages */
	ssh_session s;
	sftp_session sftp;
	bool fsync_ext;
	bool gave_up; /* the last reconnect found the host unreachable */
};

static struct conn_ssh *ssh_of(struct conn *c)
{
	return (struct conn_ssh *)c;
}

static int port_of(const struct conn_ssh *c)
{
	return c->o.port > 0 ? c->o.port : 22;
}

/* ---- session ------------------------------------------------------------------------------- */

static bool lost(const struct conn_ssh *c)
{
	return !c->s || !ssh_is_connected(c->s) || !c->sftp || !c->sftp->channel ||
	       ssh_channel_is_closed(c->sftp->channel) || ssh_channel_is_eof(c->sftp->channel);
}

static void drop(struct conn_ssh *c)
{
	if (c->sftp) {
		sftp_free(c->sftp);
		c->sftp = NULL;
	}
	if (c->s) {
		ssh_disconnect(c->s);
		ssh_free(c->s);
		c->s = NULL;
	}
}

/* "SHA256:..." of a key (malloc'd), or NULL. */
static char *fingerprint(const ssh_key key)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	if (!key || ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		return NULL;
	char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	char *ret = fp ? strdup(fp) : NULL;
	ssh_string_free_char(fp);
	return ret;
}

/*
 * The user's home, the ~ of ~/.ssh/known_hosts and of a host attribute's ~/PATH: $HOME
 * when it is set and not empty (as the shell's ~), else the home of the user kiln runs as
 * in the password file (malloc'd), or NULL. libssh's own default reads the password file
 * only, so kiln always gives libssh the file it checked by this rule: whatever HOME says,
 * the key kiln compares, the one libssh compares and the file an accepted key goes to are
 * the same file.
 */
static char *user_home(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return strdup(h);
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_dir &&
	    *res->pw_dir)
		return strdup(res->pw_dir);
	return NULL;
}

/* HOME/.ssh/known_hosts (malloc'd), or NULL when there is no home. */
static char *default_known_hosts(void)
{
	char *home = user_home(), *path = NULL;
	if (home && asprintf(&path, "%s/.ssh/known_hosts", home) < 0)
		path = NULL;
	free(home);
	return path;
}

/* The fingerprint of the first key known_hosts holds for this host (malloc'd), or NULL. */
static char *known_fingerprint(const struct conn_ssh *c)
{
	char *path = NULL, *host = NULL, *ret = NULL;
	if (c->o.known_hosts)
		path = strdup(c->o.known_hosts);
	int r = port_of(c) == 22 ? asprintf(&host, "%s", c->o.host)
	                         : asprintf(&host, "[%s]:%d", c->o.host, port_of(c));
	FILE *f = path && r >= 0 ? fopen(path, "re") : NULL;
	char *line = NULL;
	size_t cap = 0;
	while (f && !ret && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\r\n")] = 0;
		struct ssh_knownhosts_entry *e = NULL;
		if (ssh_known_hosts_parse_line(host, line, &e) == SSH_OK && e)
			ret = fingerprint(e->publickey);
		ssh_knownhosts_entry_free(e);
	}
	free(line);
	if (f)
		fclose(f);
	if (r < 0)
		host = NULL;
	free(host);
	free(path);
	return ret;
}

static int check_host_key(struct conn_ssh *c, ssh_session s, struct rt_error *err)
{
	const char *kh = c->o.known_hosts ? c->o.known_hosts : "~/.ssh/known_hosts";
	ssh_key key = NULL;
	if (ssh_get_server_publickey(s, &key) < 0)
		return rt_error_set(err, -EPROTO, "%s sent no host key: %s", c->where,
		                    ssh_get_error(s));
	char *fp = fingerprint(key);
	const char *type = ssh_key_type_to_char(ssh_key_type(key));
	int r = 0;
	switch (ssh_session_is_known_server(s)) {
	case SSH_KNOWN_HOSTS_OK:
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER: {
		char *old = known_fingerprint(c);
		r = rt_error_set(
		    err, -EKEYREJECTED,
		    "the host key of %s has changed: %s holds %s, the host now offers "
		    "%s %s; refusing to connect (if the change is expected, remove the "
		    "old entry: ssh-keygen -R '[%s]:%d' -f %s)",
		    c->where, kh, old ? old : "another key", type ? type : "", fp ? fp : "?",
		    c->o.host, port_of(c), kh);
		free(old);
		break;
	}
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (!c->o.accept_new) {
			r = rt_error_set(
			    err, -ENOKEY,
			    "the host key of %s (%s %s) is unknown: it is not in %s; "
			    "check it and add it there, or pass --accept-new-host-keys",
			    c->where, type ? type : "", fp ? fp : "?", kh);
			break;
		}
		if (ssh_session_update_known_hosts(s) != SSH_OK)
			r = rt_error_set(err, -EIO, "cannot add the host key of %s to %s: %s",
			                 c->where, kh, ssh_get_error(s));
		break;
	default:
		r = rt_error_set(err, -EIO, "cannot check the host key of %s against %s: %s",
		                 c->where, kh, ssh_get_error(s));
		break;
	}
	free(fp);
	ssh_key_free(key);
	return r;
}

static int authenticate(struct conn_ssh *c, ssh_session s, struct rt_error *err)
{
	int rc = SSH_AUTH_DENIED;
	char tried[256] = "";
	if (c->o.key_file) {
		ssh_key key = NULL;
		if (ssh_pki_import_privkey_file(c->o.key_file, NULL, NULL, NULL, &key) != SSH_OK)
			return rt_error_set(
			    err, -EINVAL,
			    "cannot read the private key '%s' (missing, unreadable, or "
			    "protected by a passphrase: use the ssh-agent for those)",
			    c->o.key_file);
		rc = ssh_userauth_publickey(s, NULL, key);
		ssh_key_free(key);
		snprintf(tried, sizeof(tried), "the key '%s'", c->o.key_file);
	}
	if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR && c->o.agent &&
	    getenv("SSH_AUTH_SOCK")) {
		rc = ssh_userauth_agent(s, NULL);
		strncat(tried, *tried ? ", the ssh-agent" : "the ssh-agent",
		        sizeof(tried) - strlen(tried) - 1);
	}
	if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR && c->o.password) {
		rc = ssh_userauth_password(s, NULL, c->o.password);
		strncat(tried, *tried ? ", a password" : "a password",
		        sizeof(tried) - strlen(tried) - 1);
	}
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR && !ssh_is_connected(s))
		return rt_error_set(err, -EHOSTUNREACH, "%s closed the connection while logging in",
		                    c->where);
	if (!*tried)
		return rt_error_set(
		    err, -EACCES,
		    "no way to log in to %s: give a key file, a password, or run an "
		    "ssh-agent",
		    c->where);
	return rt_error_set(err, -EACCES, "%s refused to log in (tried %s)", c->where, tried);
}

static void tune_socket(struct conn_ssh *c, ssh_session s)
{
	int fd = ssh_get_fd(s);
	if (fd < 0)
		return;
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->o.keepalive_s < 0)
		return;
	int idle = c->o.keepalive_s > 0 ? c->o.keepalive_s : 30, cnt = 3;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* One attempt: -EHOSTUNREACH when the host cannot be reached (worth another try), another
   error when it answered but refused (host key, login). */
static int connect_once(struct conn_ssh *c, struct rt_error *err)
{
	ssh_session s = ssh_new();
	if (!s)
		return rt_error_errno(err, -ENOMEM, "connecting to %s", c->where);
	int port = port_of(c);
	long timeout = c->o.connect_timeout_s > 0 ? c->o.connect_timeout_s : 10;
	bool no = false;
	int r = 0;
	if (ssh_options_set(s, SSH_OPTIONS_HOST, c->o.host) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    (c->o.user && ssh_options_set(s, SSH_OPTIONS_USER, c->o.user) < 0) ||
	    (c->o.known_hosts &&
	     ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, c->o.known_hosts) < 0)) {
		r = rt_error_set(err, -EINVAL, "bad SSH options for %s: %s", c->where,
		                 ssh_get_error(s));
		goto fail;
	}
	if (ssh_connect(s) != SSH_OK) {
		r = rt_error_set(err, -EHOSTUNREACH, "cannot connect to %s: %s", c->where,
		                 ssh_get_error(s));
		goto fail;
	}
	tune_socket(c, s);
	if ((r = check_host_key(c, s, err)) < 0 || (r = authenticate(c, s, err)) < 0)
		goto fail;
	sftp_session sftp = sftp_new(s);
	if (!sftp || sftp_init(sftp) != SSH_OK) {
		r = rt_error_set(err, ssh_is_connected(s) ? -EPROTO : -EHOSTUNREACH,
		                 "cannot start SFTP on %s (the server needs an sftp subsystem): %s",
		                 c->where, ssh_get_error(s));
		if (sftp)
			sftp_free(sftp);
		goto fail;
	}
	c->s = s;
	c->sftp = sftp;
	c->fsync_ext = sftp_extension_supported(sftp, "fsync@openssh.com", "1") != 0;
	return 0;
fail:
	ssh_disconnect(s);
	ssh_free(s);
	return r;
}

static void pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !rt_interrupted)
		;
}

static int reconnect(struct conn_ssh *c, struct rt_error *err)
{
	drop(c);
	int tries = c->o.reconnect_tries > 0 ? c->o.reconnect_tries : 3;
	int delay = c->o.backoff_ms > 0 ? c->o.backoff_ms : 500;
	struct rt_error e = {0};
	for (int i = 0; i < tries; i++) {
		if (i) {
			pause_ms(delay);
			delay = delay * 2 > 8000 ? 8000 : delay * 2;
		}
		if (rt_interrupted)
			return rt_error_set(err, -EINTR, "interrupted while reconnecting to %s",
			                    c->where);
		int r = connect_once(c, &e);
		if (r == 0) {
			c->gave_up = false;
			return 0;
		}
		if (r != -EHOSTUNREACH) {
			if (err)
				*err = e;
			return r;
		}
	}
	c->gave_up = true;
	return rt_error_set(err, -EHOSTUNREACH, "%s is unreachable (%d attempts): %s", c->where,
	                    tries, e.msg);
}

static int ready(struct conn_ssh *c, struct rt_error *err)
{
	return lost(c) ? reconnect(c, err) : 0;
}

/* Run call; if the session dropped under it, reconnect and run it once more. */
#define RETRYING(c, err, call)                                                                     \
	do {                                                                                       \
		int r_ = ready(c, err);                                                            \
		if (r_ < 0)                                                                        \
			return r_;                                                                 \
		r_ = (call);                                                                       \
		if (r_ < 0 && lost(c)) {                                                           \
			if ((r_ = reconnect(c, err)) < 0)                                          \
				return r_;                                                         \
			r_ = (call);                                                               \
		}                                                                                  \
		return r_;                                                                         \
	} while (0)

/* ---- SFTP errors ------------------------------------------------------------------------- */

static int sftp_code(struct conn_ssh *c)
{
	if (lost(c))
		return -ECONNRESET;
	switch (sftp_get_error(c->sftp)) {
	case SSH_FX_NO_SUCH_FILE:
	case SSH_FX_NO_SUCH_PATH:
		return -ENOENT;
	case SSH_FX_PERMISSION_DENIED:
		return -EACCES;
	case SSH_FX_FILE_ALREADY_EXISTS:
		return -EEXIST;
	case SSH_FX_OP_UNSUPPORTED:
		return -EOPNOTSUPP;
	case SSH_FX_WRITE_PROTECT:
		return -EROFS;
	case SSH_FX_NO_CONNECTION:
	case SSH_FX_CONNECTION_LOST:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

static int sftp_fail(struct conn_ssh *c, struct rt_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fill err with "what: why" for the last SFTP failure (code 0: the one SFTP reported). */
static int sftp_fail(struct conn_ssh *c, struct rt_error *err, int code, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!code)
		code = sftp_code(c);
	if (code == -ECONNRESET)
		return rt_error_set(err, code, "%s on %s: the connection dropped", what, c->where);
	if (code == -EIO) {
		const char *why = c->s ? ssh_get_error(c->s) : "";
		return rt_error_set(err, code, "%s on %s: %s", what, c->where,
		                    why && *why ? why : "the server reported a failure");
	}
	return rt_error_set(err, code, "%s on %s: %s", what, c->where, strerror(-code));
}

static void to_stat(const struct sftp_attributes_struct *a, struct conn_stat *st)
{
	mode_t m = (mode_t)a->permissions;
	if (!(m & S_IFMT)) {
		switch (a->type) {
		case SSH_FILEXFER_TYPE_DIRECTORY:
			m |= S_IFDIR;
			break;
		case SSH_FILEXFER_TYPE_SYMLINK:
			m |= S_IFLNK;
			break;
		default:
			m |= S_IFREG;
			break;
		}
	}
	st->exists = true;
	st->mode = m;
	st->uid = (uid_t)a->uid;
	st->gid = (gid_t)a->gid;
	st->size = (off_t)a->size;
}

/* ---- a command ---------------------------------------------------------------------------- */

/* Append s to buf single-quoted for sh. */
static int quote(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t need = *len + 4 * strlen(s) + 4;
	if (need > *cap) {
		size_t n = *cap ? *cap : 256;
		while (n < need)
			n *= 2;
		char *b = realloc(*buf, n);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = n;
	}
	char *p = *buf + *len;
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else
			*p++ = *s;
	}
	*p++ = '\'';
	*p = 0;
	*len = (size_t)(p - *buf);
	return 0;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 256;
		while (c < *len + n + 1)
			c *= 2;
		char *b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

/* The command line the server's shell gets for req (malloc'd), or NULL. */
static char *command_line(const struct conn_ssh *c, const struct exec_req *req, char **envp)
{
	char *script = NULL, *cmd = NULL;
	size_t sl = 0, sc = 0, cl = 0, cc = 0;
	const char *cwd = req->cwd && *req->cwd ? req->cwd : "/";
	int r = append(&script, &sl, &sc,
	               "read -r _a _b _c _d _g _r 2>/dev/null </proc/$$/stat || _g=$$; "
	               "echo \"$_g\"; cd -- ");
	r = r < 0 ? r : quote(&script, &sl, &sc, cwd);
	r = r < 0 ? r
	          : append(&script, &sl, &sc,
	                   " 2>/dev/null || { echo \"kiln: cannot enter "
	                   "directory '\"");
	r = r < 0 ? r : quote(&script, &sl, &sc, cwd);
	r = r < 0 ? r : append(&script, &sl, &sc, "\"'\" >&2; exit 125; }; env -i --");
	for (char **e = envp; r >= 0 && *e; e++) {
		r = append(&script, &sl, &sc, " ");
		r = r < 0 ? r : quote(&script, &sl, &sc, *e);
	}
	for (const char *const *a = req->argv; r >= 0 && *a; a++) {
		r = append(&script, &sl, &sc, " ");
		r = r < 0 ? r : quote(&script, &sl, &sc, *a);
	}
	r = r < 0 ? r : append(&script, &sl, &sc, "; exit $?");
	if (c->o.become) {
		r = r < 0 ? r : append(&cmd, &cl, &cc, "sudo -S -k -p '' -u ");
		r = r < 0 ? r : quote(&cmd, &cl, &cc, c->o.become_user ? c->o.become_user : "root");
		r = r < 0 ? r : append(&cmd, &cl, &cc, " -- ");
	}
	r = r < 0 ? r : append(&cmd, &cl, &cc, "/bin/sh -c ");
	r = r < 0 ? r : quote(&cmd, &cl, &cc, script);
	free(script);
	if (r < 0) {
		free(cmd);
		return NULL;
	}
	return cmd;
}

/* Kill the process group pgid on the target, through another channel. Best effort. */
static void kill_group(struct conn_ssh *c, long pgid)
{
	if (pgid <= 1 || lost(c))
		return;
	char script[96];
	snprintf(script, sizeof(script), "kill -9 -- -%ld %ld 2>/dev/null; exit 0", pgid, pgid);
	char *cmd = NULL;
	size_t cl = 0, cc = 0;
	int r = 0;
	if (c->o.become) {
		r = append(&cmd, &cl, &cc, "sudo -S -k -p '' -u ");
		r = r < 0 ? r : quote(&cmd, &cl, &cc, c->o.become_user ? c->o.become_user : "root");
		r = r < 0 ? r : append(&cmd, &cl, &cc, " -- ");
	}
	r = r < 0 ? r : append(&cmd, &cl, &cc, "/bin/sh -c ");
	r = r < 0 ? r : quote(&cmd, &cl, &cc, script);
	ssh_channel ch = r < 0 ? NULL : ssh_channel_new(c->s);
	if (ch && ssh_channel_open_session(ch) == SSH_OK &&
	    ssh_channel_request_exec(ch, cmd) == SSH_OK) {
		if (c->o.become && c->o.become_password) {
			(void)ssh_channel_write(ch, c->o.become_password,
			                        (uint32_t)strlen(c->o.become_password));
			(void)ssh_channel_write(ch, "\n", 1);
		}
		ssh_channel_send_eof(ch);
		char buf[256];
		while (ssh_channel_read_timeout(ch, buf, sizeof(buf), 0, 5000) > 0)
			;
		ssh_channel_close(ch);
	}
	if (ch)
		ssh_channel_free(ch);
	free(cmd);
}

struct run {
	char first[32]; /* the process group line */
	size_t first_len;
	bool have_first;
	long pgid;
	struct conn_capture out, err;
};

static int take_out(struct run *rn, const char *p, size_t n)
{
	while (!rn->have_first && n) {
		char ch = *p++;
		n--;
		if (ch == '\n') {
			rn->first[rn->first_len] = 0;
			rn->pgid = strtol(rn->first, NULL, 10);
			rn->have_first = true;
		} else if (rn->first_len < sizeof(rn->first) - 1) {
			rn->first[rn->first_len++] = ch;
		}
	}
	return n ? conn_capture_add(&rn->out, p, n) : 0;
}

static int drain(ssh_channel ch, struct run *rn)
{
	char buf[65536];
	for (int is_err = 0; is_err < 2; is_err++) {
		for (;;) {
			int n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), is_err);
			if (n == SSH_ERROR)
				return -ECONNRESET;
			if (n <= 0)
				break;
			int r = is_err ? conn_capture_add(&rn->err, buf, (size_t)n)
			               : take_out(rn, buf, (size_t)n);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int sshc_exec(struct conn *conn, const struct exec_req *req, struct exec_res *ret,
                     struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	if (!req->argv || !req->argv[0])
		return rt_error_set(err, -EINVAL, "no command to run");
	if (rt_interrupted)
		return rt_error_set(err, -EINTR, "interrupted");
	int r = ready(c, err);
	if (r < 0)
		return r;
	char **envp = NULL;
	if ((r = conn_env_build(req->env, &envp, err)) < 0)
		return r;
	char *cmd = command_line(c, req, envp);
	envp = conn_env_free(envp);
	if (!cmd)
		return rt_error_errno(err, -ENOMEM, "running '%s'", req->argv[0]);

	struct run rn = {0};
	conn_capture_stream(&rn.out, req, 1);
	conn_capture_stream(&rn.err, req, 2);
	ssh_channel ch = NULL;
	for (int attempt = 0;; attempt++) {
		ch = ssh_channel_new(c->s);
		if (ch && ssh_channel_open_session(ch) == SSH_OK &&
		    ssh_channel_request_exec(ch, cmd) == SSH_OK)
			break;
		if (!lost(c) || attempt > 0) {
			r = rt_error_set(err, lost(c) ? -EHOSTUNREACH : -EIO,
			                 "cannot run '%s' on %s: %s", req->argv[0], c->where,
			                 ssh_get_error(c->s));
			goto out;
		}
		/* the session had dropped unnoticed: the command has not started, so again */
		if (ch)
			ssh_channel_free(ch);
		ch = NULL;
		if ((r = reconnect(c, err)) < 0)
			goto out;
	}
	/* stdin: the become password's line, then the input, then EOF */
	const char *pw = c->o.become ? c->o.become_password : NULL;
	size_t pw_len = pw ? strlen(pw) : 0, pw_off = 0;
	const char *in = req->input;
	size_t in_len = in ? req->input_len : 0, in_off = 0;
	bool nl_sent = !pw, eof_sent = false, killed = false, cancelled = false;
	uint64_t deadline =
	    req->timeout_s > 0 ? conn_now_ns() + (uint64_t)req->timeout_s * 1000000000u : 0;
	int ka_s = c->o.keepalive_s > 0 ? c->o.keepalive_s : 30;
	uint64_t next_ka = conn_now_ns() + (uint64_t)ka_s * 1000000000u;
	for (;;) {
		/* feed stdin as far as the window allows */
		while (!eof_sent && !killed) {
			uint32_t win = ssh_channel_window_size(ch);
			const char *p;
			size_t left;
			if (pw_off < pw_len) {
				p = pw + pw_off;
				left = pw_len - pw_off;
			} else if (!nl_sent) {
				p = "\n";
				left = 1;
			} else if (in_off < in_len) {
				p = in + in_off;
				left = in_len - in_off;
			} else {
				ssh_channel_send_eof(ch);
				eof_sent = true;
				break;
			}
			if (win == 0)
				break;
			uint32_t k = left < win ? (uint32_t)left : win;
			if (k > 32768)
				k = 32768;
			int w = ssh_channel_write(ch, p, k);
			if (w < 0) {
				/* the command closed its stdin; what it printed still counts */
				eof_sent = true;
				break;
			}
			if (pw_off < pw_len)
				pw_off += (size_t)w;
			else if (!nl_sent)
				nl_sent = true;
			else
				in_off += (size_t)w;
			if (w == 0)
				break;
		}
		if ((r = drain(ch, &rn)) < 0)
			break;
		if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch))
			break;
		if (!killed && rt_interrupted) {
			cancelled = killed = true;
			kill_group(c, rn.pgid);
			ssh_channel_request_send_signal(ch, "KILL");
		}
		if (!killed && deadline && conn_ms_left(deadline) == 0) {
			killed = true;
			kill_group(c, rn.pgid);
			ssh_channel_request_send_signal(ch, "KILL");
		}
		if (conn_now_ns() >= next_ka) {
			(void)ssh_send_ignore(c->s, "");
			next_ka = conn_now_ns() + (uint64_t)ka_s * 1000000000u;
		}
		int ms = 20;
		if (deadline && !killed) {
			int left = conn_ms_left(deadline);
			if (left < ms)
				ms = left;
		}
		if (ssh_channel_poll_timeout(ch, ms, 0) == SSH_ERROR) {
			r = -ECONNRESET;
			break;
		}
	}
	if (r == 0)
		r = drain(ch, &rn);
	int status = -1;
	if (r == 0 && !killed) {
		status = ssh_channel_get_exit_status(ch);
		if (status < 0 && lost(c))
			r = -ECONNRESET;
	}
	if (r < 0 || (status < 0 && !killed)) {
		if (r == -ENOMEM) {
			r = rt_error_errno(err, r, "running '%s'", req->argv[0]);
		} else if (lost(c)) {
			/* the channel belongs to the session a reconnect frees */
			ssh_channel_free(ch);
			ch = NULL;
			struct rt_error e = {0};
			int rr = reconnect(c, &e);
			r = rt_error_set(err, rr < 0 ? rr : -ECONNRESET,
			                 "the connection to %s dropped while '%s' ran%s%s",
			                 c->where, req->argv[0], rr < 0 ? ": " : "",
			                 rr < 0 ? e.msg : "");
		} else {
			r = rt_error_set(err, -EIO, "'%s' on %s ended without an exit status",
			                 req->argv[0], c->where);
		}
		goto out;
	}
	if (cancelled) {
		r = rt_error_set(err, -EINTR, "interrupted: command '%s' was killed", req->argv[0]);
		goto out;
	}
	if (killed)
		status = 128 + 9;
	memset(ret, 0, sizeof(*ret));
	ret->status = status;
	ret->out = conn_capture_take(&rn.out, &ret->out_len);
	ret->err = conn_capture_take(&rn.err, &ret->err_len);
	if (!ret->out || !ret->err) {
		free(ret->out);
		free(ret->err);
		r = rt_error_errno(err, -ENOMEM, "running '%s'", req->argv[0]);
		goto out;
	}
	r = 0;
out:
	if (ch) {
		if (!ssh_channel_is_closed(ch))
			ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	conn_capture_release(&rn.out);
	conn_capture_release(&rn.err);
	free(cmd);
	return r;
}

/* A short command for what SFTP cannot do: 0 when it exited 0, else -EIO with its stderr. */
static int run_simple(struct conn_ssh *c, const char *const *argv, struct rt_error *err)
{
	struct exec_req req = {.argv = argv, .timeout_s = 60};
	struct exec_res res;
	int r = sshc_exec(&c->conn, &req, &res, err);
	if (r < 0)
		return r;
	if (res.status != 0) {
		size_t n = res.err_len;
		while (n && res.err[n - 1] == '\n')
			res.err[--n] = 0;
		r = rt_error_set(err, -EIO, "'%s' failed on %s (status %d): %s", argv[0], c->where,
		                 res.status, res.err);
	}
	exec_res_release(&res);
	return r;
}

/* ---- files -------------------------------------------------------------------------------- */

static int do_stat(struct conn_ssh *c, const char *path, bool follow, struct conn_stat *ret,
                   struct rt_error *err)
{
	memset(ret, 0, sizeof(*ret));
	sftp_attributes a = follow ? sftp_stat(c->sftp, path) : sftp_lstat(c->sftp, path);
	if (!a) {
		int code = sftp_code(c);
		if (code == -ENOENT)
			return 0;
		return sftp_fail(c, err, code, "cannot stat '%s'", path);
	}
	to_stat(a, ret);
	sftp_attributes_free(a);
	return 0;
}

static int sshc_stat(struct conn *conn, const char *path, bool follow, struct conn_stat *ret,
                     struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	RETRYING(c, err, do_stat(c, path, follow, ret, err));
}

static int do_read(struct conn_ssh *c, const char *path, size_t max, char **ret_data,
                   size_t *ret_len, struct rt_error *err)
{
	sftp_file f = sftp_open(c->sftp, path, O_RDONLY, 0);
	if (!f)
		return sftp_fail(c, err, 0, "cannot read '%s'", path);
	int r = 0;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	sftp_attributes a = sftp_fstat(f);
	if (!a) {
		r = sftp_fail(c, err, 0, "cannot stat '%s'", path);
		goto out;
	}
	struct conn_stat st;
	to_stat(a, &st);
	sftp_attributes_free(a);
	if (!S_ISREG(st.mode)) {
		r = rt_error_set(err, S_ISDIR(st.mode) ? -EISDIR : -EINVAL,
		                 "cannot read '%s' on %s: not a regular file", path, c->where);
		goto out;
	}
	if ((size_t)st.size > max) {
		r = rt_error_set(err, -EFBIG, "'%s' on %s is bigger than %zu bytes", path, c->where,
		                 max);
		goto out;
	}
	cap = (size_t)st.size + 1;
	if (!(buf = malloc(cap))) {
		r = rt_error_errno(err, -ENOMEM, "reading '%s'", path);
		goto out;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max + 1) {
				r = rt_error_set(err, -EFBIG, "'%s' on %s is bigger than %zu bytes",
				                 path, c->where, max);
				goto out;
			}
			char *b = realloc(buf, cap * 2);
			if (!b) {
				r = rt_error_errno(err, -ENOMEM, "reading '%s'", path);
				goto out;
			}
			buf = b;
			cap *= 2;
		}
		size_t want = cap - 1 - len;
		if (want > 65536)
			want = 65536;
		ssize_t n = sftp_read(f, buf + len, want);
		if (n < 0) {
			r = sftp_fail(c, err, 0, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* the size fstat gave has come: no round trip more to read the end (a file
		   that grows meanwhile is read as it was) */
		if (len == (size_t)st.size)
			break;
	}
	if (len > max) {
		r = rt_error_set(err, -EFBIG, "'%s' on %s is bigger than %zu bytes", path, c->where,
		                 max);
		goto out;
	}
	buf[len] = 0;
	*ret_data = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	sftp_close(f);
	return r;
}

static int sshc_read(struct conn *conn, const char *path, size_t max, char **ret_data,
                     size_t *ret_len, struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	RETRYING(c, err, do_read(c, path, max, ret_data, ret_len, err));
}

/* ---- posix-rename@openssh.com ---------------------------------------------------------------
 * SFTP v3's rename refuses to replace a name (OpenSSH's server links, then unlinks), and
 * libssh 0.10 sends only that one; OpenSSH's extension is rename(2), an atomic replace. It
 * is sent here as a packet of its own on the SFTP channel: libssh has no request of its
 * own outstanding then (every call of this connection waits for its reply), so the one
 * reply on the channel is this one's. */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int read_full(ssh_channel ch, unsigned char *buf, uint32_t n)
{
	uint32_t off = 0;
	while (off < n) {
		int k = ssh_channel_read(ch, buf + off, n - off, 0);
		if (k <= 0)
			return -ECONNRESET;
		off += (uint32_t)k;
	}
	return 0;
}

/* 0, or -errno: -EOPNOTSUPP when the server lacks the extension. */
static int posix_rename(struct conn_ssh *c, const char *from, const char *to)
{
	static const char ext[] = "posix-rename@openssh.com";
	if (!sftp_extension_supported(c->sftp, ext, "1"))
		return -EOPNOTSUPP;
	size_t el = sizeof(ext) - 1, fl = strlen(from), tl = strlen(to);
	size_t len = 1 + 4 + 4 + el + 4 + fl + 4 + tl;
	if (len > 65536)
		return -ENAMETOOLONG;
	unsigned char *pkt = malloc(4 + len), *p = pkt;
	if (!pkt)
		return -ENOMEM;
	uint32_t id = 0x7f000000u | (c->sftp->id_counter++ & 0xffffffu);
	put32(p, (uint32_t)len);
	p += 4;
	*p++ = SSH_FXP_EXTENDED;
	put32(p, id);
	p += 4;
	const char *parts[3] = {ext, from, to};
	size_t lens[3] = {el, fl, tl};
	for (int i = 0; i < 3; i++) {
		put32(p, (uint32_t)lens[i]);
		memcpy(p + 4, parts[i], lens[i]);
		p += 4 + lens[i];
	}
	int w = ssh_channel_write(c->sftp->channel, pkt, (uint32_t)(4 + len));
	free(pkt);
	if (w != (int)(4 + len))
		return -ECONNRESET;
	unsigned char head[4], body[512];
	if (read_full(c->sftp->channel, head, 4) < 0)
		return -ECONNRESET;
	uint32_t n = get32(head);
	if (n < 9 || n > 1u << 20)
		return -EPROTO;
	uint32_t take = n < sizeof(body) ? n : (uint32_t)sizeof(body);
	if (read_full(c->sftp->channel, body, take) < 0)
		return -ECONNRESET;
	for (uint32_t left = n - take; left;) { /* a long message: skip it */
		unsigned char skip[512];
		uint32_t k = left < sizeof(skip) ? left : (uint32_t)sizeof(skip);
		if (read_full(c->sftp->channel, skip, k) < 0)
			return -ECONNRESET;
		left -= k;
	}
	if (body[0] != SSH_FXP_STATUS || get32(body + 1) != id)
		return -EPROTO;
	switch (get32(body + 5)) {
	case SSH_FX_OK:
		return 0;
	case SSH_FX_NO_SUCH_FILE:
	case SSH_FX_NO_SUCH_PATH:
		return -ENOENT;
	case SSH_FX_PERMISSION_DENIED:
		return -EACCES;
	case SSH_FX_OP_UNSUPPORTED:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

/* Rename from over to: atomically with the extension, else SFTP's rename (which fails when
   to exists). */
static int rename_over(struct conn_ssh *c, const char *from, const char *to, struct rt_error *err)
{
	int r = posix_rename(c, from, to);
	if (r == -EOPNOTSUPP) {
		if (sftp_rename(c->sftp, from, to) < 0)
			return sftp_fail(c, err, 0, "cannot put the new '%s' in place", to);
		return 0;
	}
	if (r < 0)
		return sftp_fail(c, err, lost(c) ? -ECONNRESET : r,
		                 "cannot put the new '%s' in place", to);
	return 0;
}

/* A fresh name beside path: DIR/.kiln-NAME.XXXXXXXX (malloc'd). */
static char *temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dlen = slash ? (int)(slash - path) + 1 : 0;
	unsigned char rnd[6];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long long t = conn_now_ns() ^ (unsigned long long)getpid();
		memcpy(rnd, &t, sizeof(rnd));
	}
	char *ret = NULL;
	if (asprintf(&ret, "%.*s.kiln-%.40s.%02x%02x%02x%02x%02x%02x", dlen, path, base, rnd[0],
	             rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]) < 0)
		return NULL;
	return ret;
}

/* Give a path its owner (-1: leave) and then its mode (after chown, which clears set-id). */
static int set_attrs(struct conn_ssh *c, const char *path, const char *shown, uid_t uid, gid_t gid,
                     mode_t mode, struct rt_error *err)
{
	if (uid != (uid_t)-1 || gid != (gid_t)-1) {
		struct conn_stat st;
		int r = do_stat(c, path, false, &st, err);
		if (r < 0)
			return r;
		uid_t u = uid != (uid_t)-1 ? uid : st.uid;
		gid_t g = gid != (gid_t)-1 ? gid : st.gid;
		if ((u != st.uid || g != st.gid) && sftp_chown(c->sftp, path, u, g) < 0)
			return sftp_fail(c, err, 0, "cannot change the owner of '%s' to %u:%u",
			                 shown, (unsigned)u, (unsigned)g);
	}
	if (mode != (mode_t)-1 && sftp_chmod(c->sftp, path, mode & 07777) < 0)
		return sftp_fail(c, err, 0, "cannot change the mode of '%s' to %04o", shown,
		                 (unsigned)(mode & 07777));
	return 0;
}

static int do_write(struct conn_ssh *c, const char *path, const void *data, size_t len,
                    const struct conn_attrs *attrs, struct rt_error *err)
{
	struct conn_attrs a = attrs ? *attrs : CONN_ATTRS_DEFAULT;
	struct conn_stat old;
	int r = do_stat(c, path, false, &old, err);
	if (r < 0)
		return r;
	if (old.exists && S_ISDIR(old.mode))
		return rt_error_set(err, -EISDIR, "cannot write '%s' on %s: it is a directory",
		                    path, c->where);
	bool replace = old.exists && S_ISREG(old.mode);
	mode_t mode = a.mode != (mode_t)-1 ? a.mode : replace ? (old.mode & 07777) : 0644;
	uid_t uid = a.uid != (uid_t)-1 ? a.uid : replace ? old.uid : (uid_t)-1;
	gid_t gid = a.gid != (gid_t)-1 ? a.gid : replace ? old.gid : (gid_t)-1;

	char *tmp = NULL;
	sftp_file f = NULL;
	for (int i = 0; i < 5 && !f; i++) {
		free(tmp);
		if (!(tmp = temp_name(path)))
			return rt_error_errno(err, -ENOMEM, "writing '%s'", path);
		f = sftp_open(c->sftp, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (!f && sftp_code(c) != -EEXIST) {
			/* OpenSSH's server says "failure" for EEXIST: a name that is there is
			   tried again, anything else is the error */
			struct conn_stat st;
			if (lost(c) || do_stat(c, tmp, false, &st, NULL) < 0 || !st.exists)
				break;
		}
	}
	if (!f) {
		r = sftp_fail(c, err, 0, "cannot write '%s'", path);
		free(tmp);
		return r;
	}
	const char *p = data;
	size_t off = 0;
	while (off < len) {
		size_t k = len - off > 65536 ? 65536 : len - off;
		ssize_t n = sftp_write(f, p + off, k);
		if (n <= 0) {
			r = sftp_fail(c, err, 0, "cannot write '%s'", path);
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && c->fsync_ext && sftp_fsync(f) < 0)
		r = sftp_fail(c, err, 0, "cannot sync '%s'", path);
	if (sftp_close(f) < 0 && r == 0)
		r = sftp_fail(c, err, 0, "cannot write '%s'", path);
	if (r == 0)
		r = set_attrs(c, tmp, path, uid, gid, mode, err);
	if (r == 0)
		r = rename_over(c, tmp, path, err);
	if (r < 0 && !lost(c))
		(void)sftp_unlink(c->sftp, tmp);
	free(tmp);
	return r;
}

static int sshc_write(struct conn *conn, const char *path, const void *data, size_t len,
                      const struct conn_attrs *attrs, struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	RETRYING(c, err, do_write(c, path, data, len, attrs, err));
}

static int do_mkdir(struct conn_ssh *c, const char *path, const struct conn_attrs *attrs,
                    struct rt_error *err)
{
	struct conn_attrs a = attrs ? *attrs : CONN_ATTRS_DEFAULT;
	if (sftp_mkdir(c->sftp, path, 0700) < 0) {
		int code = sftp_code(c);
		struct conn_stat st;
		if (code != -ECONNRESET && do_stat(c, path, false, &st, NULL) == 0 && st.exists)
			code = -EEXIST;
		return sftp_fail(c, err, code, "cannot create directory '%s'", path);
	}
	return set_attrs(c, path, path, a.uid, a.gid, a.mode != (mode_t)-1 ? a.mode : 0755, err);
}

static int sshc_mkdir(struct conn *conn, const char *path, const struct conn_attrs *attrs,
                      struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	int r = ready(c, err);
	if (r < 0)
		return r;
	r = do_mkdir(c, path, attrs, err);
	if (r < 0 && lost(c)) {
		/* again after a reconnect; made before the drop is "made" */
		if ((r = reconnect(c, err)) < 0)
			return r;
		r = do_mkdir(c, path, attrs, err);
	}
	return r;
}

static int do_chmod(struct conn_ssh *c, const char *path, mode_t mode, struct rt_error *err)
{
	if (sftp_chmod(c->sftp, path, mode & 07777) < 0)
		return sftp_fail(c, err, 0, "cannot change the mode of '%s' to %04o", path,
		                 (unsigned)(mode & 07777));
	return 0;
}

static int sshc_chmod(struct conn *conn, const char *path, mode_t mode, struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	RETRYING(c, err, do_chmod(c, path, mode, err));
}

static int do_chown(struct conn_ssh *c, const char *path, uid_t uid, gid_t gid,
                    struct rt_error *err)
{
	struct conn_stat st;
	int r = do_stat(c, path, false, &st, err);
	if (r < 0)
		return r;
	if (!st.exists)
		return rt_error_set(err, -ENOENT, "cannot change the owner of '%s' on %s: %s", path,
		                    c->where, strerror(ENOENT));
	uid_t u = uid != (uid_t)-1 ? uid : st.uid;
	gid_t g = gid != (gid_t)-1 ? gid : st.gid;
	if (u == st.uid && g == st.gid)
		return 0;
	if (S_ISLNK(st.mode)) {
		/* SFTP's setstat follows links: the link itself needs chown -h */
		char ids[48];
		snprintf(ids, sizeof(ids), "%u:%u", (unsigned)u, (unsigned)g);
		const char *argv[] = {"chown", "-h", ids, "--", path, NULL};
		return run_simple(c, argv, err);
	}
	if (sftp_chown(c->sftp, path, u, g) < 0)
		return sftp_fail(c, err, 0, "cannot change the owner of '%s' to %u:%u", path,
		                 (unsigned)u, (unsigned)g);
	return 0;
}

static int sshc_chown(struct conn *conn, const char *path, uid_t uid, gid_t gid,
                      struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	RETRYING(c, err, do_chown(c, path, uid, gid, err));
}

static int do_symlink(struct conn_ssh *c, const char *target, const char *path,
                      struct rt_error *err)
{
	char *tmp = temp_name(path);
	if (!tmp)
		return rt_error_errno(err, -ENOMEM, "linking '%s'", path);
	int r = 0;
	if (sftp_symlink(c->sftp, target, tmp) < 0)
		r = sftp_fail(c, err, 0, "cannot create the symlink '%s'", path);
	else if ((r = rename_over(c, tmp, path, err)) < 0) {
		if (!lost(c))
			(void)sftp_unlink(c->sftp, tmp);
	}
	free(tmp);
	return r;
}

static int sshc_symlink(struct conn *conn, const char *target, const char *path,
                        struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	RETRYING(c, err, do_symlink(c, target, path, err));
}

static int do_readlink(struct conn_ssh *c, const char *path, char **ret_target,
                       struct rt_error *err)
{
	char *t = sftp_readlink(c->sftp, path);
	if (!t) {
		int code = sftp_code(c);
		struct conn_stat st;
		if (code == -EIO && do_stat(c, path, false, &st, NULL) == 0 && st.exists &&
		    !S_ISLNK(st.mode))
			code = -EINVAL;
		return sftp_fail(c, err, code, "cannot read the symlink '%s'", path);
	}
	*ret_target = strdup(t);
	ssh_string_free_char(t);
	if (!*ret_target)
		return rt_error_errno(err, -ENOMEM, "reading the symlink '%s'", path);
	return 0;
}

static int sshc_readlink(struct conn *conn, const char *path, char **ret_target,
                         struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	RETRYING(c, err, do_readlink(c, path, ret_target, err));
}

static int remove_tree(struct conn_ssh *c, const char *path, int depth, struct rt_error *err)
{
	if (depth > 256)
		return rt_error_set(err, -ELOOP, "cannot remove '%s' on %s: nested too deep", path,
		                    c->where);
	sftp_dir d = sftp_opendir(c->sftp, path);
	if (!d)
		return sftp_fail(c, err, 0, "cannot remove '%s'", path);
	int r = 0;
	sftp_attributes a;
	while (r == 0 && (a = sftp_readdir(c->sftp, d))) {
		if (strcmp(a->name, ".") != 0 && strcmp(a->name, "..") != 0) {
			char *p = NULL;
			struct conn_stat st;
			to_stat(a, &st);
			if (asprintf(&p, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
			             a->name) < 0)
				r = rt_error_errno(err, -ENOMEM, "removing '%s'", path);
			else if (S_ISDIR(st.mode))
				r = remove_tree(c, p, depth + 1, err);
			else if (sftp_unlink(c->sftp, p) < 0)
				r = sftp_fail(c, err, 0, "cannot remove '%s'", p);
			free(p);
		}
		sftp_attributes_free(a);
	}
	if (r == 0 && !sftp_dir_eof(d))
		r = sftp_fail(c, err, 0, "cannot list '%s'", path);
	sftp_closedir(d);
	if (r == 0 && sftp_rmdir(c->sftp, path) < 0)
		r = sftp_fail(c, err, 0, "cannot remove '%s'", path);
	return r;
}

static int do_remove(struct conn_ssh *c, const char *path, bool recursive, struct rt_error *err)
{
	struct conn_stat st;
	int r = do_stat(c, path, false, &st, err);
	if (r < 0 || !st.exists)
		return r;
	if (!S_ISDIR(st.mode)) {
		if (sftp_unlink(c->sftp, path) < 0 && sftp_code(c) != -ENOENT)
			return sftp_fail(c, err, 0, "cannot remove '%s'", path);
		return 0;
	}
	if (recursive)
		return remove_tree(c, path, 0, err);
	if (sftp_rmdir(c->sftp, path) < 0) {
		int code = sftp_code(c);
		return sftp_fail(c, err, code == -EIO ? -ENOTEMPTY : code, "cannot remove '%s'",
		                 path);
	}
	return 0;
}

static int sshc_remove(struct conn *conn, const char *path, bool recursive, struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	RETRYING(c, err, do_remove(c, path, recursive, err));
}

static int do_touch(struct conn_ssh *c, const char *path, const struct conn_attrs *attrs,
                    struct rt_error *err)
{
	struct conn_attrs a = attrs ? *attrs : CONN_ATTRS_DEFAULT;
	struct conn_stat st;
	int r = do_stat(c, path, true, &st, err);
	if (r < 0)
		return r;
	if (st.exists) {
		struct timeval tv[2];
		gettimeofday(&tv[0], NULL);
		tv[1] = tv[0];
		if (sftp_utimes(c->sftp, path, tv) < 0)
			return sftp_fail(c, err, 0, "cannot touch '%s'", path);
		return 0;
	}
	sftp_file f = sftp_open(c->sftp, path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (!f)
		return sftp_fail(c, err, 0, "cannot create '%s'", path);
	sftp_close(f);
	return set_attrs(c, path, path, a.uid, a.gid, a.mode != (mode_t)-1 ? a.mode : 0644, err);
}

static int sshc_touch(struct conn *conn, const char *path, const struct conn_attrs *attrs,
                      struct rt_error *err)
{
	struct conn_ssh *c = ssh_of(conn);
	RETRYING(c, err, do_touch(c, path, attrs, err));
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void sshc_close(struct conn *conn)
{
	struct conn_ssh *c = ssh_of(conn);
	drop(c);
	free((char *)c->o.host);
	free((char *)c->o.user);
	free((char *)c->o.key_file);
	free((char *)c->o.known_hosts);
	free((char *)c->o.become_user);
	free_secret((char *)c->o.password);
	free_secret((char *)c->o.become_password);
	free(c->where);
	free(c);
}

static const struct conn_ops ssh_ops = {
    .name = "ssh",
    .exec = sshc_exec,
    .read = sshc_read,
    .write = sshc_write,
    .stat = sshc_stat,
    .mkdir = sshc_mkdir,
    .chmod = sshc_chmod,
    .chown = sshc_chown,
    .symlink = sshc_symlink,
    .readlink = sshc_readlink,
    .remove = sshc_remove,
    .touch = sshc_touch,
    .close = sshc_close,
};

bool conn_ssh_unreachable(const struct conn *c)
{
	return c && c->ops == &ssh_ops && ((const struct conn_ssh *)c)->gave_up;
}

static bool dup_opt(const char *s, const char **ret)
{
	*ret = NULL;
	if (!s)
		return true;
	return (*ret = strdup(s)) != NULL;
}

int conn_ssh_open(const struct ssh_opts *opts, struct conn **ret, struct rt_error *err)
{
	if (!opts || !opts->host || !*opts->host)
		return rt_error_set(err, -EINVAL, "an SSH connection needs a host");
	if (opts->port < 0 || opts->port > 65535)
		return rt_error_set(err, -EINVAL, "SSH port %d is out of range (1-65535)",
		                    opts->port);
	struct conn_ssh *c = calloc(1, sizeof(*c));
	if (!c)
		return rt_error_errno(err, -ENOMEM, "connecting to %s", opts->host);
	c->conn.ops = &ssh_ops;
	c->o = *opts;
	bool ok = dup_opt(opts->host, &c->o.host) & dup_opt(opts->user, &c->o.user) &
	          dup_opt(opts->key_file, &c->o.key_file) &
	          dup_opt(opts->known_hosts, &c->o.known_hosts) &
	          dup_opt(opts->become_user, &c->o.become_user) &
	          dup_opt(opts->password, &c->o.password) &
	          dup_opt(opts->become_password, &c->o.become_password);
	/* no known_hosts given: ~/.ssh/known_hosts by kiln's rule (user_home), named to libssh
	   too; with no home at all, libssh's own default */
	if (ok && !c->o.known_hosts)
		c->o.known_hosts = default_known_hosts();
	int port = port_of(c);
	if (!ok || asprintf(&c->where, "%s%s%s:%d", opts->user ? opts->user : "",
	                    opts->user ? "@" : "", opts->host, port) < 0) {
		c->where = NULL;
		sshc_close(&c->conn);
		return rt_error_errno(err, -ENOMEM, "connecting to %s", opts->host);
	}
	int r = reconnect(c, err);
	if (r < 0) {
		sshc_close(&c->conn);
		return r;
	}
	*ret = &c->conn;
	return 0;
}

/* ---- a host of an apply block ----------------------------------------------------------- */

/* The first of keys that attrs holds (NULL: none); *ret_key names it. */
static json_t *attr(json_t *attrs, const char *const *keys, const char **ret_key)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(attrs, *keys);
		if (v && !json_is_null(v)) {
			*ret_key = *keys;
			return v;
		}
	}
	return NULL;
}

static int attr_str(const char *host, json_t *attrs, const char *const *keys, const char **ret,
                    struct rt_error *err)
{
	const char *k;
	json_t *v = attr(attrs, keys, &k);
	if (!v)
		return 0;
	if (!json_is_string(v))
		return rt_error_set(err, -EINVAL, "host '%s': '%s' must be a string", host, k);
	*ret = json_string_value(v);
	return 0;
}

static int attr_int(const char *host, json_t *attrs, const char *const *keys, int lo, int hi,
                    int *ret, struct rt_error *err)
{
	const char *k;
	json_t *v = attr(attrs, keys, &k);
	if (!v)
		return 0;
	long long n;
	char *end = NULL;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_string(v) && *json_string_value(v))
		n = strtoll(json_string_value(v), &end, 10); /* inventories give strings */
	else
		return rt_error_set(err, -EINVAL, "host '%s': '%s' must be a number", host, k);
	if ((end && *end) || n < lo || n > hi)
		return rt_error_set(err, -EINVAL, "host '%s': '%s' must be a number from %d to %d",
		                    host, k, lo, hi);
	*ret = (int)n;
	return 0;
}

static int attr_bool(const char *host, json_t *attrs, const char *const *keys, bool *ret,
                     struct rt_error *err)
{
	const char *k;
	json_t *v = attr(attrs, keys, &k);
	if (!v)
		return 0;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	if (json_is_boolean(v))
		*ret = json_is_true(v);
	else if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1")))
		*ret = true;
	else if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcmp(s, "0")))
		*ret = false;
	else
		return rt_error_set(err, -EINVAL, "host '%s': '%s' must be true or false", host, k);
	return 0;
}

/* A file path of a host attribute: ~/ is the user's home (user_home), a relative one is
   against base (malloc'd). */
static char *attr_path(const char *p, const char *base)
{
	char *ret = NULL;
	char *home = p[0] == '~' && p[1] == '/' ? user_home() : NULL;
	if (home) {
		if (asprintf(&ret, "%s%s", home, p + 1) < 0)
			ret = NULL;
		free(home);
	} else if (p[0] != '/' && base && *base && strcmp(base, ".") != 0) {
		if (asprintf(&ret, "%s/%s", base, p) < 0)
			ret = NULL;
	} else {
		ret = strdup(p);
	}
	return ret;
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

int conn_ssh_open_host(const char *name, json_t *attrs, const char *base_dir, bool accept_new,
                       struct conn **ret, struct rt_error *err)
{
	struct ssh_opts o = {.host = name, .agent = true, .accept_new = accept_new};
	const char *key = NULL, *kh = NULL;
	int r;
	if ((r = attr_str(name, attrs, KEYS("address", "ansible_host"), &o.host, err)) < 0 ||
	    (r = attr_int(name, attrs, KEYS("port", "ansible_port"), 1, 65535, &o.port, err)) < 0 ||
	    (r = attr_str(name, attrs, KEYS("user", "ansible_user"), &o.user, err)) < 0 ||
	    (r = attr_str(name, attrs, KEYS("identity_file", "ansible_ssh_private_key_file"), &key,
	                  err)) < 0 ||
	    (r = attr_str(name, attrs, KEYS("password", "ansible_password"), &o.password, err)) <
	        0 ||
	    (r = attr_str(name, attrs, KEYS("known_hosts"), &kh, err)) < 0 ||
	    (r = attr_bool(name, attrs, KEYS("become", "ansible_become"), &o.become, err)) < 0 ||
	    (r = attr_str(name, attrs, KEYS("become_user", "ansible_become_user"), &o.become_user,
	                  err)) < 0 ||
	    (r = attr_str(name, attrs, KEYS("become_password", "ansible_become_password"),
	                  &o.become_password, err)) < 0 ||
	    (r = attr_int(name, attrs, KEYS("connect_timeout", "timeout"), 1, 3600,
	                  &o.connect_timeout_s, err)) < 0 ||
	    (r = attr_int(name, attrs, KEYS("keepalive"), -1, 3600, &o.keepalive_s, err)) < 0)
		return r;
	char *key_path = key ? attr_path(key, base_dir) : NULL;
	char *kh_path = kh ? attr_path(kh, base_dir) : NULL;
	if ((key && !key_path) || (kh && !kh_path)) {
		free(key_path);
		free(kh_path);
		return rt_error_errno(err, -ENOMEM, "connecting to %s", name);
	}
	o.key_file = key_path;
	o.known_hosts = kh_path;
	r = conn_ssh_open(&o, ret, err);
	free(key_path);
	free(kh_path);
	return r;
}
