/*
 * workdir: what killed applies left in a work directory. Each apply works in
 * WORK/apply-XXXXXX with its pid in apply-XXXXXX/pid (exec.c); a run whose
 * kiln is gone is stale, whatever it holds (image trees, overlay upper and
 * work directories, layer tarballs, half-written files), and so is a mount
 * under the work directory that no live kiln owns (a kiln from before applies
 * had a mount namespace of their own left them in the build machine's).
 */
#ifndef KILN_WORKDIR_H
#define KILN_WORKDIR_H

#include "events.h"

#include <sys/types.h>

/* The pid written in run_dir/pid when that process still runs (this one included), else
   0: no file, no such process, or a process started after the file was written (its pid
   was reused). */
pid_t workdir_run_pid(const char *run_dir);

/*
 * Clean the work directory base (an apply holds its lock, or is in check mode) before the
 * run own (base/apply-XXXXXX, or NULL) uses it:
 *   - mounts strictly under base, outside the runs of live kilns, are detached
 *     (umount2(MNT_DETACH)) in the build machine's mount namespace (ns_host_mounts(),
 *     from a child process that enters it) and in kiln's own; a note on ev names them;
 *   - the directories of dead runs are removed (read-only and mode 000 directories
 *     included, such as the work/work that overlayfs leaves), never crossing a mount.
 */
void workdir_clean(const char *base, const char *own, struct events *ev);

#endif
