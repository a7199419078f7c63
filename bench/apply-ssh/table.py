#!/usr/bin/env python3
"""Helpers of run.sh: read what kiln and Ansible printed, and print the table.

  table.py kiln-counts EVENTS.jsonl...   "changed ok skipped failed unreachable" of each
        run (kiln apply --events=json: its recap events, summed over the hosts); one
        line when every run counted alike, else each run's, joined by " | "
  table.py kiln-median EVENTS.jsonl      median of the task_end "ms" fields (ms)
  table.py ansible-counts OUTPUT.log...  the same counts from the PLAY RECAP lines; ok
        is Ansible's ok minus changed (tasks that changed nothing), as kiln counts
  table.py table RESULTS                 the table (RESULTS: run.sh's key=value lines);
        exit 1 when a count or the comparison is wrong, 2 when a target is missed
"""
import json
import re
import statistics
import sys


def kiln_counts(path):
    c = [0, 0, 0, 0, 0]
    seen = False
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            ev = json.loads(line)
            if ev.get("event") == "recap":
                seen = True
                for i, k in enumerate(("changed", "ok", "skipped", "failed", "unreachable")):
                    c[i] += int(ev.get(k, 0) or 0)
    return " ".join(str(x) for x in c) if seen else "none"


def kiln_median(path):
    ms = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                ev = json.loads(line)
                if ev.get("event") == "task_end":
                    ms.append(float(ev["ms"]))
    return "%.4f" % statistics.median(ms) if ms else "none"


RECAP = re.compile(r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                   r"\s+skipped=(\d+)")


def ansible_counts(path):
    c = [0, 0, 0, 0, 0]
    seen = False
    with open(path) as f:
        for line in f:
            m = RECAP.match(line)
            if m:
                seen = True
                ok, changed, unreachable, failed, skipped = (int(x) for x in m.groups())
                for i, v in enumerate((changed, ok - changed, skipped, failed, unreachable)):
                    c[i] += v
    return " ".join(str(x) for x in c) if seen else "none"


def joined(fn, paths):
    runs = [fn(p) for p in paths]
    return runs[0] if len(set(runs)) == 1 else " | ".join(runs)


def fnum(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def table(path):
    r = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            r[k] = v
    n = int(r["tasks"])
    hosts = int(r.get("hosts", "1"))
    bad = []
    missed = []

    def want(key, expect):
        v = r.get(key)
        if v is not None and v != expect:
            bad.append("%s: %s, expected %s (changed ok skipped failed unreachable)" %
                       (key, v, expect))

    print("apply over SSH: %d tasks (%s), to sshd on 127.0.0.1" % (n, r["mix"]))
    print("machine: %s; %s; load %s -> %s" % (r["machine"], r["sshd"], r["load_start"],
                                              r["load_end"]))
    print("kiln: %s" % r["kiln"])
    if r.get("ansible") == "1":
        print("Ansible: %s" % r.get("ansible_version", "?"))
    print()
    print("one host                       first apply          idempotent apply")
    print("                               s        ms/task     s        ms/task")
    rows = [("kiln", "kiln1")]
    if r.get("ansible") == "1":
        rows += [("Ansible, defaults", "adef"), ("Ansible, pipelining+CP", "abest")]
    for label, k in rows:
        a, b = fnum(r.get(k + "_first_s")), fnum(r.get(k + "_second_s"))
        print("%-30s %-8.3f %-11.2f %-8.3f %-11.2f" % (label, a, a * 1000 / n, b, b * 1000 / n))
    want("kiln1_first_counts", "%d 0 0 0 0" % n)
    want("kiln1_second_counts", "0 %d 0 0 0" % n)
    for k in ("adef", "abest"):
        want(k + "_first_counts", "%d 0 0 0 0" % n)
        want(k + "_second_counts", "0 %d 0 0 0" % n)
    med = fnum(r.get("kiln1_second_median_ms"))
    print()
    print("kiln, idempotent task on a warm session: %.3f ms median (target <= 0.3)" % med)
    if med is None or med > 0.3:
        missed.append("median idempotent task %s ms > 0.3 ms" % r.get("kiln1_second_median_ms"))
    if r.get("ansible") == "1":
        k1, k2 = fnum(r["kiln1_first_s"]), fnum(r["kiln1_second_s"])
        for label, k in (("defaults", "adef"), ("pipelining+ControlPersist", "abest")):
            a1, a2 = fnum(r[k + "_first_s"]), fnum(r[k + "_second_s"])
            print("Ansible (%s) / kiln: first apply %.0fx, idempotent apply %.0fx" %
                  (label, a1 / k1, a2 / k2))
        ratio = fnum(r["abest_second_s"]) / k2
        if ratio < 300:
            missed.append("idempotent apply only %.0fx faster than Ansible's best case (< 300x)"
                          % ratio)
        print("same files left by kiln and Ansible: %s" % r.get("compare", "?"))
        if not r.get("compare", "").startswith("yes"):
            bad.append("kiln and Ansible left different files")
    if hosts > 1:
        print()
        print("%d hosts (kiln: %s)" % (hosts, r.get("kilnN_forks")))
        print("                               s        ms/host-task  x one host")
        for label, k, one in (("kiln, first apply", "kilnN_first_s", "kiln1_first_s"),
                              ("kiln, idempotent apply", "kilnN_second_s", "kiln1_second_s")):
            v = fnum(r.get(k))
            print("%-30s %-8.3f %-13.3f %.1fx" % (label, v, v * 1000 / (n * hosts),
                                                v / fnum(r[one])))
        want("kilnN_first_counts", "%d 0 0 0 0" % (n * hosts))
        want("kilnN_second_counts", "0 %d 0 0 0" % (n * hosts))
        x = fnum(r["kilnN_second_s"]) / fnum(r["kiln1_second_s"])
        if x > 3:
            missed.append("%d hosts take %.1fx one host's idempotent apply (> 3x)%s" %
                          (hosts, x, "" if "forks" in r.get("kilnN_forks", "") else
                           ": this kiln has no --forks, hosts ran one after another"))
        if "abestN_first_s" in r:
            for label, k in (("Ansible best, first apply", "abestN_first_s"),
                             ("Ansible best, idempotent", "abestN_second_s")):
                v = fnum(r[k])
                print("%-30s %-8.3f %-13.3f" % (label, v, v * 1000 / (n * hosts)))
            want("abestN_first_counts", "%d 0 0 0 0" % (n * hosts))
            want("abestN_second_counts", "0 %d 0 0 0" % (n * hosts))
    print()
    for b in bad:
        print("WRONG: " + b)
    for m in missed:
        print("MISSED: " + m)
    if not bad and not missed:
        print("all counts right; every target met")
    return 1 if bad else 2 if missed else 0


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "kiln-counts":
        print(joined(kiln_counts, args))
    elif cmd == "kiln-median":
        print(kiln_median(args[0]))
    elif cmd == "ansible-counts":
        print(joined(ansible_counts, args))
    elif cmd == "table":
        return table(args[0])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
