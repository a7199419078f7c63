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

#endif
