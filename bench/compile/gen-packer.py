#!/usr/bin/env python3
"""Generate a Packer JSON template with N provisioners for the compile benchmark.

    gen-packer.py --provisioners N [--seed S] [--builder docker|null] -o DIR/template.json
    gen-packer.py --provisioners N > template.json      (no source files written)

The provisioners mirror what a kiln image does, one provisioner per kiln task:
`shell` provisioners with inline commands (apt-get, useradd, sed, systemctl,
...) and `file` provisioners uploading configuration files, plus a few `shell`
provisioners running a script file.  The builder is `docker` with
"commit": true (the default; `packer validate` accepts it without a Docker
daemon) or `null` with no communicator.

`packer validate` checks that the sources of `file` provisioners and `script`
files exist, so with -o the referenced files are also written to DIR/files/;
the template refers to them as {{template_dir}}/files/..., so it validates
from any working directory.
"""

import argparse
import json
import os
import random
import sys

SOURCES = {
    "nginx-app.conf": "server {\n    listen 80 default_server;\n    root /srv/web/public;\n}\n",
    "app.service": "[Unit]\nDescription=app\n\n[Service]\nExecStart=/srv/app/bin/app\n"
                   "Restart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n",
    "10-hardening.conf": "PermitRootLogin no\nPasswordAuthentication no\nX11Forwarding no\n",
    "90-kiln.conf": "net.core.somaxconn = 4096\nvm.swappiness = 10\n",
    "logrotate-app": "/var/log/app/*.log {\n  daily\n  rotate 14\n  compress\n}\n",
    "internal-root.pem": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUKiln\n-----END CERTIFICATE-----\n",
    "settings.toml": "[server]\nbind = \"0.0.0.0:8000\"\nworkers = 9\n",
    "redis.conf": "port 6379\nbind 0.0.0.0 ::\nmaxmemory 1gb\n",
}
SCRIPTS = {
    "bootstrap.sh": "#!/bin/sh\nset -eu\ninstall -d /var/log/app\n",
    "cleanup.sh": "#!/bin/sh\nset -eu\napt-get clean\nrm -rf /var/lib/apt/lists/*\n",
}
DEST = {
    "nginx-app.conf": "/etc/nginx/conf.d/app.conf",
    "app.service": "/etc/systemd/system/app.service",
    "10-hardening.conf": "/etc/ssh/sshd_config.d/10-hardening.conf",
    "90-kiln.conf": "/etc/sysctl.d/90-kiln.conf",
    "logrotate-app": "/etc/logrotate.d/app",
    "internal-root.pem": "/usr/local/share/ca-certificates/internal-root.crt",
    "settings.toml": "/etc/api/settings.toml",
    "redis.conf": "/etc/redis/redis.conf",
}
PKGS = ["nginx", "ssl-cert", "python3", "python3-venv", "postgresql-15", "redis-server",
        "haproxy", "curl", "jq", "htop", "vim-tiny", "rsync", "git", "unzip", "tmux"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
SVCS = ["nginx", "ssh", "postgresql", "redis-server", "haproxy", "api", "prometheus"]
SSHD = [("PermitRootLogin", "no"), ("PasswordAuthentication", "no"), ("MaxAuthTries", "3")]


def shell_inline(r, i):
    kind = r.randint(0, 7)
    if kind == 0:
        pk = r.sample(PKGS, r.randint(1, 4))
        cmds = ["apt-get update", "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
                + " ".join(pk)]
    elif kind == 1:
        u = r.choice(USERS)
        cmds = [f"id -u {u} >/dev/null 2>&1 || useradd -m -s /bin/bash -G sudo {u}"]
    elif kind == 2:
        k, v = r.choice(SSHD)
        cmds = [f"sed -i -E 's/^#?{k}\\s.*/{k} {v}/' /etc/ssh/sshd_config",
                f"grep -q '^{k} {v}' /etc/ssh/sshd_config || echo '{k} {v}' >> /etc/ssh/sshd_config"]
    elif kind == 3:
        s = r.choice(SVCS)
        cmds = [f"systemctl enable {s}.service || true"]
    elif kind == 4:
        d = r.choice(["releases", "shared", "data", "cache"])
        cmds = [f"install -d -m 0755 -o www-data -g www-data /srv/app/{d}"]
    elif kind == 5:
        cmds = ["ln -sf /etc/nginx/sites-available/app /etc/nginx/sites-enabled/app",
                "rm -f /etc/nginx/sites-enabled/default"]
    elif kind == 6:
        cmds = ["echo 'export PATH=\"/srv/app/bin:$PATH\"' > /etc/profile.d/app.sh",
                "chmod 0644 /etc/profile.d/app.sh"]
    else:
        cmds = ["curl -fsSL https://releases.example.com/app/{{user `app_version`}}/app.tar.gz "
                "| tar -xz -C /srv/app"]
    p = {"type": "shell", "inline": cmds}
    if r.random() < 0.3:
        p["environment_vars"] = ["DEBIAN_FRONTEND=noninteractive",
                                 "APP_ENV={{user `app_env`}}"]
    if r.random() < 0.1:
        p["execute_command"] = "chmod +x {{ .Path }}; {{ .Vars }} sh -eux '{{ .Path }}'"
    return p


def file_prov(r, i):
    name = r.choice(sorted(SOURCES))
    return {"type": "file", "source": "{{template_dir}}/files/" + name, "destination": DEST[name]}


def script_prov(r, i):
    name = r.choice(sorted(SCRIPTS))
    return {"type": "shell", "script": "{{template_dir}}/files/" + name,
            "environment_vars": ["APP_ROOT=/srv/app"]}


def template(n, seed, builder):
    r = random.Random(seed)
    provs = []
    for i in range(n):
        x = r.random()
        if x < 0.30:
            provs.append(file_prov(r, i))
        elif x < 0.35:
            provs.append(script_prov(r, i))
        else:
            provs.append(shell_inline(r, i))
    if builder == "docker":
        b = {"type": "docker", "image": "debian:bookworm", "commit": True,
             "changes": ["EXPOSE 80", "WORKDIR /srv/app", "ENTRYPOINT [\"/usr/sbin/nginx\", \"-g\", \"daemon off;\"]",
                         "ENV APP_ENV {{user `app_env`}}"]}
    else:
        b = {"type": "null", "communicator": "none"}
    t = {
        "description": f"kiln compile benchmark: {n} provisioners",
        "variables": {"app_version": "1.4.2", "app_env": "production", "region": "eu-west-1"},
        "builders": [b],
        "provisioners": provs,
    }
    if builder == "docker":
        t["post-processors"] = [{"type": "docker-tag", "repository": "registry.example.com/app",
                                 "tags": ["{{user `app_version`}}"]}]
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--provisioners", "-n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--builder", choices=["docker", "null"], default="docker")
    ap.add_argument("-o", "--output", help="write the template here (and its source files beside it)")
    a = ap.parse_args()
    t = template(a.provisioners, a.seed, a.builder)
    text = json.dumps(t, indent=2) + "\n"
    if a.output:
        d = os.path.join(os.path.dirname(os.path.abspath(a.output)), "files")
        os.makedirs(d, exist_ok=True)
        for name, body in list(SOURCES.items()) + list(SCRIPTS.items()):
            with open(os.path.join(d, name), "w") as f:
                f.write(body)
        with open(a.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    nfile = sum(1 for p in t["provisioners"] if p["type"] == "file")
    print(f"gen-packer: provisioners={a.provisioners} file={nfile} shell={a.provisioners - nfile} "
          f"builder={a.builder} bytes={len(text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
