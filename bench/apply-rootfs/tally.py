#!/usr/bin/env python3
"""Helpers of run.sh: read what the two tools printed, and compare their results.

  tally.py kiln EVENTS.jsonl      -> "changed ok skipped failed tasks median_ms host_ms tasks_ms"
        counts from the last recap line of kiln apply --events=json; tasks and
        median_ms over its task_end events (ms fields); host_ms: the recap's
        seconds (the host: open the rootfs, run the tasks, close), in ms;
        tasks_ms: the sum of the task_end ms fields
  tally.py ansible OUTPUT.log     -> "changed ok skipped failed"
        from the PLAY RECAP line; ok here is Ansible's ok minus changed (tasks
        that changed nothing), so both tools count alike
  tally.py compare ROOT_A ROOT_B PATH...
        compares the trees under PATH in both roots (type, mode, content,
        link target); prints "yes, N paths under PATH..." or the first differences
        (exit status 1)
  tally.py table RESULTS            the table run.sh prints (RESULTS: key=value lines)
"""
import json
import os
import re
import stat
import statistics
import sys


def kiln(path):
    recap = None
    ms = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            ev = json.loads(line)
            if ev.get("event") == "recap":
                recap = ev
            elif ev.get("event") == "task_end":
                ms.append(float(ev["ms"]))
    if recap is None:
        print("none none none none 0 none none none")
        return 1
    med = statistics.median(ms) if ms else float("nan")
    print(recap["changed"], recap["ok"], recap["skipped"], recap["failed"], len(ms), "%.6f" % med,
          "%.6f" % (recap["seconds"] * 1000), "%.6f" % sum(ms))
    return 0


def ansible(path):
    pat = re.compile(r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                     r"\s+skipped=(\d+)")
    found = None
    with open(path) as f:
        for line in f:
            m = pat.match(line)
            if m:
                found = [int(x) for x in m.groups()]
    if found is None:
        print("none none none none")
        return 1
    ok, changed, unreachable, failed, skipped = found
    print(changed, ok - changed, skipped, failed + unreachable)
    return 0


def walk(root, top):
    out = {}
    base = os.path.join(root, top.lstrip("/"))
    if not os.path.lexists(base):
        return out
    stack = [top]
    while stack:
        rel = stack.pop()
        p = os.path.join(root, rel.lstrip("/"))
        st = os.lstat(p)
        kind = stat.S_IFMT(st.st_mode)
        entry = [kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid]
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                entry.append(f.read())
        elif stat.S_ISLNK(st.st_mode):
            entry.append(os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            for name in os.listdir(p):
                stack.append(rel.rstrip("/") + "/" + name)
        out[rel] = entry
    return out


def compare(a, b, paths):
    ta, tb = {}, {}
    for p in paths:
        ta.update(walk(a, p))
        tb.update(walk(b, p))
    diffs = []
    for k in sorted(set(ta) | set(tb)):
        if k not in ta or k not in tb:
            diffs.append("%s: only in %s" % (k, a if k in ta else b))
        elif ta[k] != tb[k]:
            ea, eb = ta[k], tb[k]
            what = ["type", "mode", "uid", "gid", "content"]
            d = [what[i] for i in range(min(len(ea), len(eb))) if ea[i] != eb[i]]
            diffs.append("%s: %s differ" % (k, "/".join(d)))
    if diffs:
        print("differ %d: %s" % (len(diffs), "; ".join(diffs[:6])))
        return 1
    print("yes, %d paths under %s" % (len(ta), " ".join(paths)))
    return 0


def fmt_s(x):
    return "%.3f" % x if x < 10 else "%.1f" % x


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def table(path):
    r = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                r[k] = v
    n = int(r["tasks"])
    have_a = r.get("ansible") == "1"

    def row(label, kv="", av="", ratio="", target=""):
        print(("%-26s %11s %11s %18s  %s" % (label, kv, av, ratio, target)).rstrip())

    print()
    print("apply-rootfs: %d tasks (%s)" % (n, r["mix"]))
    print("  into a fresh %s, one copy per run" % r["tree"])
    print("kiln:    %s, best of %s" % (r["kiln"], r["kiln_runs"]))
    if have_a:
        print("ansible: %s, community.general.chroot, pipelining, best of %s"
              % (r["ansible_version"], r["ansible_runs"]))
    print("machine: %s; load average %s at the start, %s at the end"
          % (r["machine"], r["load_start"], r["load_end"]))
    print()
    row("", "kiln", "ansible" if have_a else "-", "kiln/ansible", "target")
    status = 0
    for phase, title, target in (("first", "first apply", 300),
                                 ("second", "second apply (idempotent)", 1000)):
        k = num(r["kiln_%s_s" % phase])
        a = num(r["ansible_%s_s" % phase]) if have_a else None
        ratio, tgt = "", "ansible/kiln >= %dx" % target
        if a:
            speed = a / k
            met = speed >= target
            status |= 0 if met else 2
            ratio = "%.5f = 1/%.0f" % (k / a, speed)
            tgt += ": %s" % ("met" if met else "MISSED")
        row(title)
        row("  wall, s", "%.4f" % k, "%.2f" % a if a else "-", ratio, tgt)
        row("  per task, ms", "%.3f" % (k * 1000 / n), "%.1f" % (a * 1000 / n) if a else "-")
        kc = r["kiln_%s_counts" % phase].split()
        ac = r["ansible_%s_counts" % phase].split() if have_a else None
        want = str(n) if phase == "first" else "0"
        row("  changed / ok", "%s / %s" % (kc[0], kc[1]),
            "%s / %s" % (ac[0], ac[1]) if ac else "-", "", "changed = %s" % want)
        bad = kc[0] != want or kc[3] != "0" or (ac and (ac[0] != want or ac[3] != "0"))
        if bad:
            status |= 1
            row("", "", "", "", "WRONG COUNTS (failed: kiln %s%s)"
                % (kc[3], ", ansible %s" % ac[3] if ac else ""))
        wall = k * 1000
        host, tasks = num(r["kiln_%s_host_ms" % phase]), num(r["kiln_%s_tasks_ms" % phase])
        row("  kiln split, ms", "", "", "", "start-up+compile %.1f, rootfs open/close %.1f, tasks %.1f"
            % (wall - host, host - tasks, tasks))
    med = num(r["kiln_median_ms"])
    met = med <= 0.05
    status |= 0 if met else 2
    row("kiln idempotent task, median", "%.4f ms" % med, "", "", "<= 0.05 ms: %s" % ("met" if met else "MISSED"))
    if have_a:
        print("%-26s %s" % ("same files in both trees", r["compare"]))
        if not r["compare"].startswith("yes"):
            status |= 1
    print()
    print("changed / ok: tasks that changed something / that found everything in place")
    return status


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd = sys.argv[1]
    if cmd == "kiln":
        return kiln(sys.argv[2])
    if cmd == "ansible":
        return ansible(sys.argv[2])
    if cmd == "compare" and len(sys.argv) >= 5:
        return compare(sys.argv[2], sys.argv[3], sys.argv[4:])
    if cmd == "table":
        return table(sys.argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
