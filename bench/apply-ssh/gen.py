#!/usr/bin/env python3
"""Write the apply-ssh workload: apply-rootfs's 100 tasks (bench/apply-rootfs/gen.py,
reused unchanged) aimed at hosts over SSH, their paths moved under TARGET.

usage: gen.py OUTDIR TARGET KEY KNOWN_HOSTS PORT...

OUTDIR receives what apply-rootfs/gen.py writes (files/, templates/, workload.txt),
with every task path (/srv/bench, /etc/bench, /var/lib/bench, /opt/bench) moved under
TARGET, and:
  bench-1.img, bench-N.img      kiln: the first port's host, or every port's host
  playbook.yml                  the same 100 tasks (hosts: bench)
  inventory-1.ini, inventory-N.ini
  ansible-default.cfg           Ansible's defaults (ControlPersist=60s is one of them;
                                pipelining off), only paths set: temporary directories
                                under OUTDIR's parent and TARGET, the inventory
  ansible-best.cfg              the same with pipelining = True and ControlPersist=600s
  compare.txt                   the four task directories, under TARGET
Hosts are h01, h02, ... on 127.0.0.1, user root, key KEY, known_hosts KNOWN_HOSTS.
"""
import json
import os
import re
import subprocess
import sys

TOPS = ["/srv/bench", "/etc/bench", "/var/lib/bench", "/opt/bench"]


def main():
    if len(sys.argv) < 6:
        sys.stderr.write(__doc__)
        sys.exit(2)
    out, target, key, kh = sys.argv[1:5]
    ports = [int(p) for p in sys.argv[5:]]
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "..", "apply-rootfs", "gen.py"), out,
                    "/unused-kiln-root", "/unused-ansible-root"], check=True)
    move = re.compile("|".join(re.escape(t) for t in TOPS))

    def moved(text):
        return move.sub(lambda m: target + m.group(0), text)

    # kiln: the rootfs host line becomes SSH hosts
    with open(os.path.join(out, "bench.img")) as f:
        img = f.read()
    os.unlink(os.path.join(out, "bench.img"))
    img = moved(img)
    host_line = re.compile(r"^hosts bench \{.*\}$", re.M)
    assert host_line.search(img), "apply-rootfs/gen.py changed its hosts line"

    def hosts(n):
        lines = ["hosts bench {"]
        for i, p in enumerate(ports[:n]):
            lines.append('  "h%02d" { address = "127.0.0.1", port = %d, user = "root", '
                         'identity_file = %s, known_hosts = %s }'
                         % (i + 1, p, json.dumps(key), json.dumps(kh)))
        lines.append("}")
        return "\n".join(lines)

    for n, name in ((1, "bench-1.img"), (len(ports), "bench-N.img")):
        text = host_line.sub(lambda m: hosts(n), img).replace(
            "100 tasks on a rootfs directory", "100 tasks over SSH (bench/apply-ssh/gen.py)")
        with open(os.path.join(out, name), "w") as f:
            f.write(text)

    with open(os.path.join(out, "playbook.yml")) as f:
        pb = f.read()
    with open(os.path.join(out, "playbook.yml"), "w") as f:
        f.write(moved(pb))

    for n, name in ((1, "inventory-1.ini"), (len(ports), "inventory-N.ini")):
        with open(os.path.join(out, name), "w") as f:
            f.write("[bench]\n")
            for i, p in enumerate(ports[:n]):
                f.write("h%02d ansible_host=127.0.0.1 ansible_port=%d ansible_user=root "
                        "ansible_ssh_private_key_file=%s "
                        "ansible_ssh_common_args='-o UserKnownHostsFile=%s' "
                        "ansible_python_interpreter=/usr/bin/python3\n" % (i + 1, p, key, kh))

    work = os.path.dirname(os.path.abspath(out))
    common = ("[defaults]\n"
              "retry_files_enabled = False\n"
              "interpreter_python = /usr/bin/python3\n"
              "nocolor = True\n"
              "forks = %d\n"
              "local_tmp = %s/ansible-local\n"
              "remote_tmp = %s/.ansible-tmp\n" % (max(len(ports), 5), work, target))
    os.unlink(os.path.join(out, "ansible.cfg"))
    os.unlink(os.path.join(out, "inventory.ini"))
    with open(os.path.join(out, "ansible-default.cfg"), "w") as f:
        f.write(common + "[ssh_connection]\ncontrol_path_dir = %s/cp-default\n" % work)
    with open(os.path.join(out, "ansible-best.cfg"), "w") as f:
        f.write(common + "[ssh_connection]\n"
                "pipelining = True\n"
                "ssh_args = -C -o ControlMaster=auto -o ControlPersist=600s\n"
                "control_path_dir = %s/cp-best\n" % work)

    with open(os.path.join(out, "compare.txt"), "w") as f:
        f.write("\n".join(target + t for t in TOPS) + "\n")


if __name__ == "__main__":
    main()
