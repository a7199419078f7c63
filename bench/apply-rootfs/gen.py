#!/usr/bin/env python3
"""Write the apply-rootfs workload: 100 tasks, as a kiln .img file and as an
Ansible playbook with its inventory, both aimed at a rootfs directory.

usage: gen.py OUTDIR KILN_ROOTFS ANSIBLE_ROOTFS

OUTDIR receives:
  bench.img             hosts + one apply block (connection = rootfs)
  playbook.yml          one play, gather_facts: false
  inventory.ini         one host, ansible_connection=community.general.chroot
  ansible.cfg           the Ansible settings the run uses (pipelining on: Ansible's
                        fastest setting, though with chroot it changes little)
  files/                the sources of the copy tasks (15 small files, big.conf.dist)
  templates/            14 templates, read by both tools (the same text)
  workload.txt          the task mix, one line per module
  compare.txt           the paths whose result both tools must leave identical

The mix (100 tasks, in this order):
  10 file      directories, some with a mode
  20 file      files with content and a mode (Ansible: copy with content)
  16 copy      15 small files from files/, and big.conf.dist (about 4 KiB)
   1 command   cp -p big.conf.dist big.conf, with creates (installed once)
  25 lineinfile on big.conf: 12 with a regexp that replaces a line, 13 without
               (7 appended at the end, 6 inserted after a section header)
  14 template  each with a loop over a list of objects and conditions
  14 command   with creates (touch, mkdir -p, sh -c "echo ... > file")

Every task changes something on a fresh tree and nothing on a second run.
The templates use only syntax kiln and Jinja2 read alike ({{ expr }},
{% for %}, {% if %}, member access, + and >), with each block tag alone on
its line at column 0, which both remove with its newline (Ansible's template
module sets trim_blocks).
"""
import json
import os
import sys


def q(s):
    """A double-quoted string that kiln and YAML read the same way."""
    out = json.dumps(s)
    # kiln interpolates ${...} in "..." strings; none of the values use it
    assert "${" not in s
    return out


BACKENDS = [
    {"host": "10.0.0.%d" % (i + 1), "port": 8080 + i, "weight": 1 + (i % 3)}
    for i in range(6)
]
BASE_PORT = 9000
TLS = True
SERVICE = "benchsvc"

DIRS = [
    ("/srv/bench", None),
    ("/srv/bench/app", 0o755),
    ("/srv/bench/app/conf.d", 0o755),
    ("/srv/bench/data", 0o750),
    ("/srv/bench/logs", 0o755),
    ("/etc/bench", 0o755),
    ("/etc/bench/copy", 0o755),
    ("/etc/bench/sites", 0o755),
    ("/var/lib/bench", 0o700),
    ("/opt/bench", None),
]


def big_conf():
    lines = ["# big.conf: the file the lineinfile tasks edit", "[main]"]
    for i in range(44):
        lines.append("#param_%02d = default value number %02d" % (i, i))
        lines.append("setting_%02d = %s" % (i, "x" * 40))
    lines.append("[extra]")
    lines.append("# end of the extra section")
    text = "\n".join(lines) + "\n"
    return text


TEMPLATE = """# {{{{ service }}}}: site {n:02d}, generated from site{n:02d}.conf.tmpl
[site]
name = {{{{ service }}}}-{n:02d}
listen = {{{{ base_port + {n} }}}}
{{% for b in backends %}}
server {{{{ b.host }}}}:{{{{ b.port }}}} weight={{{{ b.weight }}}}
{{% endfor %}}
{{% if tls %}}
ssl_certificate = /etc/ssl/{{{{ service }}}}-{n:02d}.pem
{{% else %}}
ssl = off
{{% endif %}}
{{% for b in backends %}}
{{% if b.weight > {limit} %}}
preferred {{{{ b.host }}}}
{{% endif %}}
{{% endfor %}}
# end of site {n:02d}
"""


def mode_str(m):
    return "0%o" % m


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        sys.exit(2)
    out, kroot, aroot = sys.argv[1:]
    os.makedirs(os.path.join(out, "files"), exist_ok=True)
    os.makedirs(os.path.join(out, "templates"), exist_ok=True)

    # Each task: (module, kiln label, kiln attrs [(name, kiln expr)], ansible module,
    # ansible args {name: value})
    tasks = []

    for path, mode in DIRS:
        k = [("state", "directory")]
        a = {"path": path, "state": "directory"}
        if mode is not None:
            k.append(("mode", mode_str(mode)))
            a["mode"] = mode_str(mode)
        tasks.append(("file", path, k, "file", a))

    modes = [0o644, 0o600, 0o640, 0o644, 0o755]
    for i in range(20):
        d = "/srv/bench/app/conf.d" if i < 12 else "/etc/bench"
        path = "%s/f%02d.conf" % (d, i)
        content = "# f%02d.conf\nkey_%02d = value %d\nworkers = %d\n" % (i, i, i * 7, 1 + i % 4)
        mode = modes[i % len(modes)]
        tasks.append(("file", path, [("content", q(content)), ("mode", mode_str(mode))],
                      "copy", {"dest": path, "content": content, "mode": mode_str(mode)}))

    for i in range(15):
        name = "c%02d.txt" % i
        with open(os.path.join(out, "files", name), "w") as f:
            f.write("small file %02d\n" % i + ("a line of %s\n" % name) * (1 + i % 5))
        dest = "/etc/bench/copy/" + name
        src = "files/" + name
        tasks.append(("copy", dest, [("src", q(src)), ("mode", "0644")],
                      "copy", {"src": src, "dest": dest, "mode": "0644"}))
    # big.conf: shipped as big.conf.dist, installed once, then edited in place
    big = "/etc/bench/big.conf"
    with open(os.path.join(out, "files", "big.conf.dist"), "w") as f:
        f.write(big_conf())
    tasks.append(("copy", big + ".dist", [("src", q("files/big.conf.dist")), ("mode", "0644")],
                  "copy", {"src": "files/big.conf.dist", "dest": big + ".dist", "mode": "0644"}))
    cmd = "cp -p %s.dist %s" % (big, big)
    tasks.append(("command", cmd, [("creates", q(big))], "command", {"cmd": cmd, "creates": big}))

    for i in range(12):
        p = 3 * i + 1
        regexp = "^#?param_%02d =" % p
        line = "param_%02d = tuned %d" % (p, i)
        tasks.append(("lineinfile", "set param_%02d" % p,
                      [("path", q(big)), ("regexp", q(regexp)), ("line", q(line))],
                      "lineinfile", {"path": big, "regexp": regexp, "line": line}))
    for i in range(13):
        line = "extra_%02d = on" % i
        k = [("path", q(big)), ("line", q(line))]
        a = {"path": big, "line": line}
        if i % 2 == 1:
            k.append(("insertafter", q("^\\[main\\]")))
            a["insertafter"] = "^\\[main\\]"
        tasks.append(("lineinfile", "add extra_%02d" % i, k, "lineinfile", a))

    for n in range(14):
        name = "site%02d.conf.tmpl" % n
        with open(os.path.join(out, "templates", name), "w") as f:
            f.write(TEMPLATE.format(n=n, limit=1 + n % 2))
        dest = "/etc/bench/sites/site%02d.conf" % n
        tasks.append(("template", dest, [("src", q("templates/" + name)), ("mode", "0644")],
                      "template", {"src": "templates/" + name, "dest": dest, "mode": "0644"}))

    for i in range(14):
        kind = i % 3
        if kind == 0:
            target = "/var/lib/bench/stamp_%02d" % i
            cmd = "touch " + target
        elif kind == 1:
            target = "/opt/bench/build_%02d" % i
            cmd = "mkdir -p " + target
        else:
            target = "/var/lib/bench/out_%02d" % i
            cmd = "sh -c 'echo built %02d > %s'" % (i, target)
        tasks.append(("command", cmd, [("creates", q(target))],
                      "command", {"cmd": cmd, "creates": target}))

    assert len(tasks) == 100, len(tasks)

    # ---- kiln ----
    img = []
    img.append("# generated by bench/apply-rootfs/gen.py: 100 tasks on a rootfs directory")
    img.append("let service = %s" % q(SERVICE))
    img.append("let base_port = %d" % BASE_PORT)
    img.append("let tls = %s" % ("true" if TLS else "false"))
    img.append("let backends = [")
    for b in BACKENDS:
        img.append("  { host = %s, port = %d, weight = %d }," % (q(b["host"]), b["port"], b["weight"]))
    img.append("]")
    img.append("")
    img.append("hosts bench { %s { connection = rootfs } }" % q(kroot))
    img.append("")
    img.append("apply bench {")
    for mod, label, kattrs, _, _ in tasks:
        body = ", ".join("%s = %s" % (n, v) for n, v in kattrs)
        img.append("  %s %s { %s }" % (mod, q(label), body))
    img.append("}")
    with open(os.path.join(out, "bench.img"), "w") as f:
        f.write("\n".join(img) + "\n")

    # ---- Ansible ----
    pb = []
    pb.append("# generated by bench/apply-rootfs/gen.py: the same 100 tasks as bench.img")
    pb.append("- hosts: bench")
    pb.append("  gather_facts: false")
    pb.append("  vars:")
    pb.append("    service: %s" % q(SERVICE))
    pb.append("    base_port: %d" % BASE_PORT)
    pb.append("    tls: %s" % ("true" if TLS else "false"))
    pb.append("    backends:")
    for b in BACKENDS:
        pb.append("      - { host: %s, port: %d, weight: %d }" % (q(b["host"]), b["port"], b["weight"]))
    pb.append("  tasks:")
    for idx, (mod, label, _, amod, aargs) in enumerate(tasks):
        pb.append("    - name: %s" % q("%03d %s %s" % (idx + 1, mod, label)))
        pb.append("      %s:" % amod)
        for n, v in aargs.items():
            pb.append("        %s: %s" % (n, q(v)))
    with open(os.path.join(out, "playbook.yml"), "w") as f:
        f.write("\n".join(pb) + "\n")

    with open(os.path.join(out, "inventory.ini"), "w") as f:
        f.write("[bench]\nrootfs ansible_connection=community.general.chroot "
                "ansible_host=%s ansible_python_interpreter=/usr/bin/python3\n" % aroot)

    with open(os.path.join(out, "ansible.cfg"), "w") as f:
        f.write("[defaults]\n"
                "inventory = inventory.ini\n"
                "retry_files_enabled = False\n"
                "interpreter_python = /usr/bin/python3\n"
                "nocolor = True\n"
                "[connection]\n"
                "pipelining = True\n")

    counts = {}
    for mod, *_ in tasks:
        counts[mod] = counts.get(mod, 0) + 1
    with open(os.path.join(out, "workload.txt"), "w") as f:
        for mod in ("file", "copy", "lineinfile", "template", "command"):
            f.write("%s %d\n" % (mod, counts.get(mod, 0)))

    with open(os.path.join(out, "compare.txt"), "w") as f:
        f.write("/srv/bench\n/etc/bench\n/var/lib/bench\n/opt/bench\n")


if __name__ == "__main__":
    main()
