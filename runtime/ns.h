/*
 * ns: the namespace holder of a rootfs connection. One small process, started
 * once per connection with clone(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS |
 * CLONE_NEWIPC), prepares the rootfs (private mount tree, the rootfs bound
 * onto itself and made the root with pivot_root, /proc, read-only /sys, a
 * tmpfs /dev with the usual nodes, devpts, /dev/shm, the build machine's
 * resolv.conf bound read-only, a hostname) and then runs each command it is
 * asked for, on a SOCK_SEQPACKET socketpair: it forks it (posix_spawn),
 * waits for it with its timeout and answers its status. kiln keeps the pipes'
 * other ends and relays them itself (conn_relay_*).
 *
 * The holder is pid 1 of its pid namespace and the only process that keeps
 * its mount namespace: when it ends — ns_holder_stop(), or kiln's death by
 * any signal (PR_SET_PDEATHSIG(SIGKILL), and the socket's hangup) — the kernel
 * kills every process left in the namespace and drops its mounts. Nothing is
 * ever mounted in kiln's own mount namespace.
 *
 * Order: ns_holder_start() -> ns_holder_exec()... -> ns_holder_stop().
 * Start it while kiln is single-threaded (the holder is a raw clone of kiln),
 * from a thread that lives as long as the holder (PR_SET_PDEATHSIG fires when
 * the creating thread ends).
 */
#ifndef KILN_NS_H
#define KILN_NS_H

#include "conn.h"

#include <sys/types.h>

struct ns_holder;

struct ns_opts {
	const char *root;     /* absolute path of the rootfs directory */
	const char *hostname; /* NULL: "kiln" */
	bool bind_resolv;     /* bind the build machine's /etc/resolv.conf (read-only) over
	                         root/etc/resolv.conf, which must exist */
};

/* Start the holder and wait until the rootfs is ready (or say why it is not). */
int ns_holder_start(const struct ns_opts *opts, struct ns_holder **ret, struct rt_error *err);

/* Run one command in the rootfs (see conn_ops.exec). */
int ns_holder_exec(struct ns_holder *h, const struct exec_req *req, struct exec_res *ret,
                   struct rt_error *err);

/* The holder's pid in kiln's pid namespace (for tests and diagnostics). */
pid_t ns_holder_pid(const struct ns_holder *h);

/* End the holder, and with it every process and mount of the namespace; waits until they
   are gone. Takes NULL; returns NULL. */
struct ns_holder *ns_holder_stop(struct ns_holder *h);

/* Move kiln into a mount namespace of its own (unshare(CLONE_NEWNS), the whole tree made a
   slave of the build machine's: nothing propagates back), so that every mount it makes itself (an
   image's tree over a kept one, the test tree) is in no other namespace and vanishes when kiln
   ends, however it ends. Call it before any thread starts: only the calling thread moves. An error
   leaves kiln unfit to mount anything (it may be in a new namespace that still shares its mounts):
   stop then. Calling it again does nothing. */
int ns_private_mounts(struct rt_error *err);

/* The mount namespace kiln was in before ns_private_mounts() (an fd of /proc/self/ns/mnt,
   close-on-exec; the caller does not close it), or -1 when kiln did not leave it. */
int ns_host_mounts(void);

#endif
