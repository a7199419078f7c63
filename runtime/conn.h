/*
 * conn: the runtime's connections — the targets modules act on through the
 * operations of stdlib/module.h. Each constructor returns a struct conn whose
 * ops implement that interface.
 */
#ifndef KILN_CONN_H
#define KILN_CONN_H

#include "module.h"

/*
 * A rootfs directory as a target. Commands run chrooted into it in new mount,
 * pid, uts and ipc namespaces, set up once (by conn_rootfs_open) and kept
 * until conn_free: /proc, /sys (read-only), a minimal /dev, the build
 * machine's resolv.conf and a policy-rc.d that stops package installs from
 * starting daemons. Everything is torn down by the kernel when the namespace's
 * first process ends, which it does when kiln ends, even by SIGKILL.
 */
int conn_rootfs_open(const char *rootfs_dir, struct conn **ret, struct rt_error *err);

/* The build machine itself (the 'local' module): commands run with /bin/sh in cwd. */
int conn_local_open(const char *cwd, struct conn **ret, struct rt_error *err);
/*
 * What a module gets in --check (conn_check.c): inner's reads, stats and the commands
 * that only query state (dpkg-query, systemctl is-enabled, ...); every write, mkdir,
 * chmod, chown, symlink, remove, touch and any other command fails with -EROFS. inner
 * stays its owner's: conn_free of the wrapper leaves it open.
 */
struct conn *conn_check_open(struct conn *inner);
/* inner, with every command's output also given to fn as it arrives (stream 1: stdout,
   2: stderr; kiln apply -v). inner stays its owner's, as with conn_check_open. */
struct conn *conn_stream_open(struct conn *inner,
                              void (*fn)(void *data, int stream, const char *p, size_t n),
                              void *data);

/* A host over SSH (conn_ssh.c). Strings are copied; NULL or 0 takes the default. */
struct ssh_opts {
	const char *host;            /* name or address */
	int port;                    /* 0: 22 */
	const char *user;            /* NULL: the local user's name */
	const char *key_file;        /* a private key to log in with (no passphrase), or NULL */
	bool agent;                  /* also try the keys of the ssh-agent at $SSH_AUTH_SOCK */
	const char *password;        /* a login password (a secret: never in a message), or NULL */
	const char *known_hosts;     /* NULL: ~/.ssh/known_hosts, ~ $HOME or else the passwd home */
	bool accept_new;             /* add an unknown host key instead of refusing it */
	int connect_timeout_s;       /* 0: 10 */
	int keepalive_s;             /* TCP and SSH keepalive interval; 0: 30, < 0: off */
	bool become;                 /* run commands through sudo */
	const char *become_user;     /* NULL: root */
	const char *become_password; /* sudo's password (fed on stdin, never on a command line) */
	int reconnect_tries;         /* attempts when the session drops; 0: 3 */
	int backoff_ms;              /* the first pause between attempts, doubling; 0: 500 */
};

/*
 * A host over SSH: one session, one SFTP session for files, an exec channel per command.
 * Refused: an unknown host key unless accept_new (-ENOKEY), a changed one (-EKEYREJECTED),
 * a failed login (-EACCES). A host that cannot be reached, at open or after a dropped
 * session and the bounded reconnects, is -EHOSTUNREACH: report it as unreachable.
 */
int conn_ssh_open(const struct ssh_opts *opts, struct conn **ret, struct rt_error *err);

/* Whether c is an SSH connection that lost its host for good (the last reconnect gave up):
   a task that failed then failed because the host is unreachable. */
bool conn_ssh_unreachable(const struct conn *c);

/*
 * A host of an apply block over SSH, from its attributes (plan values already resolved):
 * address (default: name), port, user, identity_file, password, known_hosts, become,
 * become_user, become_password, connect_timeout, keepalive, and the ansible_* names an
 * INI inventory uses for them (ansible_host, ansible_port, ansible_user,
 * ansible_ssh_private_key_file, ...). Relative file paths are against base_dir. The
 * ssh-agent is tried when it runs. A bad attribute is -EINVAL naming it.
 */
int conn_ssh_open_host(const char *name, json_t *attrs, const char *base_dir, bool accept_new,
                       struct conn **ret, struct rt_error *err);

#endif
