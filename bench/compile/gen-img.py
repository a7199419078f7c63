#!/usr/bin/env python3
"""Generate a large, realistic kiln source file for the compile benchmark.

    gen-img.py [--lines N] [--seed S] > big.img
    gen-img.py --tasks T [--seed S] > tasks.img
    gen-img.py --lines N --count-tasks

The output is deterministic for a given (--lines, --tasks, --seed).  It is made
of "sections", one per application stack (web, api, db, cache, ...), each with
typed params, lets, roles, a chain of images (base call -> base image -> app
image -> variants), stages, handlers, config, outputs, tests and sometimes a
host inventory with an `apply` block.  Every reference (variables, roles,
handlers, parent images) is defined earlier in the file or in the enclosing
block, so the file lints clean.

In --lines mode the file has exactly N lines (the tail is padded with comment
lines when the next item does not fit).  In --tasks mode the file has exactly T
tasks (task blocks, including those inside handlers and tests).

A summary line `gen-img: lines=... bytes=... tasks=...` is printed to stderr
(suppress with --quiet); --count-tasks prints only the task count to stdout
instead of the document.  --write-files DIR creates the files on the build
machine that the source refers to (copy and template sources, rootfs
tarballs), should a check ever look for them.
"""

import argparse
import random
import sys

# ---------------------------------------------------------------------------
# vocabulary

THEMES = [
    dict(name="web", pkgs=["nginx", "ssl-cert", "libnginx-mod-http-headers-more-filter"],
         svc="nginx", port=80, conf="/etc/nginx/conf.d/app.conf", user="www-data",
         check="nginx -t", entry=["/usr/sbin/nginx"], cmd=["-g", "daemon off;"]),
    dict(name="api", pkgs=["python3", "python3-venv", "gunicorn", "libpq5"],
         svc="api", port=8000, conf="/etc/api/settings.toml", user="api",
         check="/srv/api/venv/bin/python -m compileall -q /srv/api/app",
         entry=["/srv/api/venv/bin/gunicorn"], cmd=["app.wsgi:application"]),
    dict(name="db", pkgs=["postgresql-15", "postgresql-contrib", "pgbackrest"],
         svc="postgresql", port=5432, conf="/etc/postgresql/15/main/conf.d/10-tuning.conf",
         user="postgres", check="pg_lsclusters",
         entry=["/usr/lib/postgresql/15/bin/postgres"], cmd=["-D", "/var/lib/postgresql/15/main"]),
    dict(name="cache", pkgs=["redis-server", "redis-tools"],
         svc="redis-server", port=6379, conf="/etc/redis/redis.conf", user="redis",
         check="redis-server --test-memory 1 >/dev/null || true",
         entry=["/usr/bin/redis-server"], cmd=["/etc/redis/redis.conf"]),
    dict(name="queue", pkgs=["rabbitmq-server", "erlang-base"],
         svc="rabbitmq-server", port=5672, conf="/etc/rabbitmq/rabbitmq.conf", user="rabbitmq",
         check="rabbitmq-diagnostics -q check_running",
         entry=["/usr/sbin/rabbitmq-server"], cmd=[]),
    dict(name="proxy", pkgs=["haproxy", "socat"],
         svc="haproxy", port=8443, conf="/etc/haproxy/haproxy.cfg", user="haproxy",
         check="haproxy -c -f /etc/haproxy/haproxy.cfg",
         entry=["/usr/sbin/haproxy"], cmd=["-f", "/etc/haproxy/haproxy.cfg", "-db"]),
    dict(name="metrics", pkgs=["prometheus-node-exporter", "prometheus"],
         svc="prometheus", port=9090, conf="/etc/prometheus/prometheus.yml", user="prometheus",
         check="promtool check config /etc/prometheus/prometheus.yml",
         entry=["/usr/bin/prometheus"], cmd=["--config.file=/etc/prometheus/prometheus.yml"]),
    dict(name="mail", pkgs=["postfix", "mailutils", "opendkim"],
         svc="postfix", port=25, conf="/etc/postfix/main.cf", user="postfix",
         check="postfix check", entry=["/usr/sbin/postfix"], cmd=["start-fg"]),
    dict(name="dns", pkgs=["unbound", "dns-root-data"],
         svc="unbound", port=53, conf="/etc/unbound/unbound.conf.d/local.conf", user="unbound",
         check="unbound-checkconf", entry=["/usr/sbin/unbound"], cmd=["-d"]),
    dict(name="ci", pkgs=["git", "build-essential", "docker.io", "openjdk-17-jre-headless"],
         svc="gitlab-runner", port=9252, conf="/etc/gitlab-runner/config.toml", user="gitlab-runner",
         check="gitlab-runner verify --delete || true",
         entry=["/usr/bin/gitlab-runner"], cmd=["run"]),
    dict(name="search", pkgs=["opensearch", "openjdk-17-jre-headless"],
         svc="opensearch", port=9200, conf="/etc/opensearch/opensearch.yml", user="opensearch",
         check="test -s /etc/opensearch/opensearch.yml",
         entry=["/usr/share/opensearch/bin/opensearch"], cmd=[]),
    dict(name="ldap", pkgs=["slapd", "ldap-utils"],
         svc="slapd", port=389, conf="/etc/ldap/ldap.conf", user="openldap",
         check="slaptest -u", entry=["/usr/sbin/slapd"], cmd=["-d", "0"]),
]

TOOLS = ["htop", "vim-tiny", "curl", "jq", "less", "tmux", "strace", "tcpdump", "dnsutils",
         "iproute2", "netcat-openbsd", "rsync", "unzip", "git", "lsof", "sysstat", "ncdu"]
REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2", "ca-central-1"]
TEAMS = ["platform", "payments", "search", "data", "edge", "identity", "growth"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
GROUPS = ["sudo", "adm", "docker", "systemd-journal", "www-data", "staff"]
MIRRORS = ["http://deb.debian.org/debian", "http://ftp.fr.debian.org/debian",
           "http://mirror.example.internal/debian"]
SYSCTL = [("net.core.somaxconn", "4096"), ("vm.swappiness", "10"),
          ("net.ipv4.tcp_fin_timeout", "15"), ("fs.file-max", "2097152"),
          ("net.ipv4.ip_local_port_range", "1024 65000"), ("vm.max_map_count", "262144"),
          ("net.ipv4.tcp_tw_reuse", "1")]
SSHD = [("PermitRootLogin", "no"), ("PasswordAuthentication", "no"),
        ("X11Forwarding", "no"), ("MaxAuthTries", "3"), ("ClientAliveInterval", "300"),
        ("AllowAgentForwarding", "no")]

COMMENTS = [
    "keep this in sync with the runbook",
    "TODO: move to a shared role once the schema settles",
    "the upstream package ships a default vhost we do not want",
    "pinned after the regression in the last point release",
    "required by the security baseline (CIS 5.2)",
    "values tuned from production load tests",
    "see the on-call guide before changing this",
    "explicit mode so the checksum stays stable between builds",
    "order matters: the directory must exist before the config",
    "only on debian; the alpine variant uses a different path",
    "défaut upstream — overridden for the fleet",
]


def q(s):
    """A double-quoted kiln string literal for plain text (escapes only)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def qlist(items):
    return "[" + ", ".join(q(x) for x in items) + "]"


# ---------------------------------------------------------------------------
# output buffer

class W:
    def __init__(self, indent=0):
        self.lines = []
        self.ind = indent
        self.tasks = 0

    def __call__(self, text=""):
        self.lines.append(("  " * self.ind + text) if text else "")

    def raw(self, text):
        self.lines.append(text)

    def open(self, head):
        self(head + " {")
        self.ind += 1

    def close(self, tail=""):
        self.ind -= 1
        self("}" + tail)


class Scope:
    """Expressions valid in the current block, by slot name."""

    def __init__(self, slots, handlers, theme, k):
        self.s = slots
        self.handlers = handlers
        self.t = theme
        self.k = k

    def __contains__(self, key):
        return key in self.s

    def get(self, key, default=None):
        return self.s.get(key, default)


# ---------------------------------------------------------------------------

class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.images = []        # names of images generated so far
        self.files = set()      # files on the build machine that the source refers to

    # -- small helpers ------------------------------------------------------

    def ref(self, path):
        """A path of a file on the build machine (written by --write-files)."""
        self.files.add(path)
        return path

    def chance(self, p):
        return self.r.random() < p

    def pick(self, seq):
        return self.r.choice(seq)

    def sample(self, seq, lo, hi):
        return self.r.sample(seq, self.r.randint(lo, min(hi, len(seq))))

    def comment(self, w, p=0.15):
        if self.chance(p):
            c = self.pick(COMMENTS)
            style = self.r.random()
            if style < 0.6:
                w("# " + c)
            elif style < 0.8:
                w("// " + c)
            elif style < 0.9:
                w("/* " + c + " */")
            else:
                w("/*")
                w(" * " + c + ".")
                w(" * " + self.pick(COMMENTS) + ".")
                w(" */")

    def sep(self):
        """Separator between items written on one line."""
        return self.pick([", ", ", ", "; ", " "])

    def notify(self, sc):
        if not sc.handlers:
            return None
        hs = self.sample(sc.handlers, 1, 2)
        return "notify = [" + ", ".join(hs) + "]"

    def int_expr(self, sc, base_slot="port"):
        v = sc.get(base_slot)
        if v is None:
            return str(self.r.randint(1, 64))
        form = self.r.randint(0, 5)
        if form == 0:
            return v
        if form == 1:
            return f"{v} + {self.pick([1, 1000, 10000])}"
        if form == 2:
            return f"{v} * {self.pick([2, 4])}"
        if form == 3:
            return f"({v} - 1) % 8 + 1"
        if form == 4 and "debug" in sc:
            return f"{sc.get('debug')} ? {v} + 1 : {v}"
        return v

    def mode(self):
        return self.pick(["0644", "0644", "0640", "0o644", "0600", "0o600", "0444"])

    def dmode(self):
        return self.pick(["0755", "0o755", "0750", "0o750", "0700", "0x1ED"])

    def when_expr(self, sc):
        opts = ['facts.os.family == "debian"',
                'facts.arch == "amd64" || facts.arch == "arm64"',
                'facts.os.distribution != "ubuntu"']
        if "debug" in sc:
            opts.append(f"!{sc.get('debug')}")
            opts.append(f"{sc.get('debug')} && facts.os.family == \"debian\"")
        if "tls" in sc:
            opts.append(f"{sc.get('tls')}")
        if "pkgs" in sc:
            opts.append(f"length({sc.get('pkgs')}) > 0")
        if "port" in sc:
            opts.append(f"{sc.get('port')} >= 1024 || facts.os.family == \"debian\"")
        return self.pick(opts)

    def heredoc(self, w, attr, tag, body, strip=None):
        """Write `attr = <<TAG` + body + terminator."""
        if strip is None:
            strip = self.chance(0.7)
        if strip:
            w(f"{attr} = <<-{tag}")
            w.ind += 1
            for line in body:
                w(line)
            w.ind -= 1
            w(tag)
        else:
            w(f"{attr} = <<{tag}")
            for line in body:
                w.raw(line)
            if self.chance(0.5):
                w.raw(tag)
            else:
                w(tag)

    # -- config file bodies (heredoc contents with interpolation) -----------

    def conf_body(self, sc):
        t = sc.t
        port = sc.get("port", str(t["port"]))
        name = sc.get("name", q(t["name"])[1:-1])
        root = sc.get("root")
        workers = sc.get("workers", "2")
        user = sc.get("user")
        # helpers for interpolation of a slot that may be an expression
        def i(expr):
            return "${" + expr + "}"
        n = t["name"]
        body = [f"# managed by kiln: {n} configuration, do not edit by hand"]
        if n == "web":
            body += ["server {",
                     f"    listen {i(port)} default_server;",
                     f"    server_name {i(name)}.example.com;",
                     f"    root {i(root) if root else '/var/www/html'}/public;",
                     "    access_log /var/log/nginx/access.log combined;",
                     "",
                     "    location / {",
                     "        try_files $uri $uri/ /index.html;",
                     "    }",
                     "    location /healthz { return 200 'ok'; }",
                     "}"]
        elif n == "api":
            body += ["[server]",
                     f"bind = \"0.0.0.0:{i(port)}\"",
                     f"workers = {i(workers + ' * 2 + 1')}",
                     "",
                     "[logging]",
                     'level = "' + (i(sc.get("debug") + ' ? "debug" : "info"') if "debug" in sc else "info") + '"']
        elif n == "db":
            body += [f"listen_addresses = '*'",
                     f"port = {i(port)}",
                     f"max_connections = {i(workers + ' * 50')}",
                     "shared_buffers = 2GB",
                     "effective_cache_size = 6GB",
                     "wal_level = replica",
                     "",
                     "log_min_duration_statement = 500"]
        elif n == "cache":
            body += [f"port {i(port)}",
                     "bind 0.0.0.0 ::",
                     "maxmemory 1gb",
                     "maxmemory-policy allkeys-lru",
                     f"io-threads {i(workers)}",
                     "appendonly yes"]
        elif n == "proxy":
            body += ["global",
                     "    log /dev/log local0",
                     f"    nbthread {i(workers)}",
                     "",
                     "frontend https",
                     f"    bind :{i(port)} ssl crt /etc/haproxy/certs/",
                     "    default_backend app",
                     "",
                     "backend app",
                     "    balance roundrobin",
                     "    server app1 10.0.0.11:8000 check",
                     "    server app2 10.0.0.12:8000 check"]
        elif n == "metrics":
            body += ["global:",
                     "  scrape_interval: 15s",
                     "scrape_configs:",
                     f"  - job_name: {i(name)}",
                     "    static_configs:",
                     f"      - targets: ['localhost:{i(port)}']"]
        else:
            body += [f"# service {n}",
                     f"port = {i(port)}",
                     f"threads = {i(workers)}",
                     f"name = {i(name)}"]
            if user:
                body.append(f"user = {i(user)}")
        return body

    def unit_body(self, sc):
        t = sc.t
        name = sc.get("name")
        root = sc.get("root")
        user = sc.get("user", '"' + t["user"] + '"')
        exe = " ".join(t["entry"] + t["cmd"])
        return ["[Unit]",
                f"Description={t['name']} service ({'${' + name + '}' if name else t['svc']})",
                "After=network-online.target",
                "Wants=network-online.target",
                "",
                "[Service]",
                "Type=simple",
                f"User=${{{user}}}",
                f"WorkingDirectory={'${' + root + '}' if root else '/'}",
                f"ExecStart={exe}",
                "Restart=on-failure",
                "LimitNOFILE=65536",
                (f"Environment=PORT=${{{self.int_expr(sc)}}}" if "port" in sc else "Environment=PORT=8080"),
                "",
                "[Install]",
                "WantedBy=multi-user.target"]

    # -- tasks ----------------------------------------------------------------

    def task(self, w, sc, kind=None):
        kinds = ["apt", "apt", "apt_loop", "apt_repo", "dir", "dir", "conf", "conf", "unit",
                 "link", "absent", "copy", "copy_inline", "template", "template",
                 "lineinfile_sshd", "lineinfile_sysctl", "lineinfile_env", "users_loop",
                 "admin_user", "group", "command", "command", "shell_script", "service",
                 "service", "unarchive", "local"]
        kind = kind or self.pick(kinds)
        getattr(self, "t_" + kind)(w, sc)
        w.tasks += 1

    def t_apt(self, w, sc):
        t = sc.t
        pkgs = self.sample(t["pkgs"], 1, 4)
        w.open(f'apt "install {t["name"]} packages"')
        self.comment(w)
        if len(pkgs) == 1:
            w(f"name = {q(pkgs[0])}")
        elif self.chance(0.5):
            w(f"name = {qlist(pkgs)}")
        else:
            w("name = [")
            w.ind += 1
            for p in pkgs:
                w(q(p) + ",")
            w.ind -= 1
            w("]")
        w(f"state = {self.pick(['present', 'present', 'latest'])}")
        if self.chance(0.4):
            w("update_cache = true")
        if self.chance(0.2):
            w("when " + self.when_expr(sc))
        w.close()

    def t_apt_loop(self, w, sc):
        lst = sc.get("pkgs")
        if lst is None:
            lst = qlist(self.sample(TOOLS, 2, 6))
        var = self.pick(["p", "pkg", "package"])
        w.open(f'apt "install {self.pick(["extra", "debugging", "operator", "support"])} tools"')
        w(f"for {var} in {lst}")
        if self.chance(0.5):
            w("when " + self.when_expr(sc))
        w(f"name = {var}{self.sep()}state = present")
        w.close()

    def t_apt_repo(self, w, sc):
        vendor = self.pick(["nodesource", "postgresql", "docker", "grafana", "hashicorp", "elastic"])
        w.open(f'apt_repository "add the {vendor} repository"')
        dist = "bookworm"
        if self.chance(0.3):
            # nested string literals inside an interpolation
            dist = '${facts.os.version == "11" ? "bullseye" : "bookworm"}'
        w(f'repo = "deb [signed-by=/usr/share/keyrings/{vendor}.gpg] https://apt.{vendor}.example.com/debian {dist} main"')
        if self.chance(0.5):
            w(f'key_url = "https://apt.{vendor}.example.com/gpg.key"')
        else:
            self.heredoc(w, "key", "KEY", ["-----BEGIN PGP PUBLIC KEY BLOCK-----", "",
                                           "mQINBGRkaWxuAQgAzZk" + vendor[:4] + "kiln0bench1AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                           "=kiln", "-----END PGP PUBLIC KEY BLOCK-----"], strip=True)
        w(f'filename = "{vendor}"')
        w.close()

    def t_dir(self, w, sc):
        root = sc.get("root")
        sub = self.pick(["releases", "shared", "shared/log", "data", "tmp", "run", "cache", "etc"])
        self.comment(w)
        if root and self.chance(0.7):
            w.open(f'file "create the {sub} directory"')
            w(f'path = "${{{root}}}/{sub}"')
        else:
            w.open(f'file "/var/lib/{sc.t["name"]}/{sub}"')
        w("state = directory")
        w(f"mode = {self.dmode()}")
        if "user" in sc:
            u = sc.get("user")
            w(f"owner = {u}{self.sep()}group = {u}")
        w.close()

    def t_conf(self, w, sc):
        t = sc.t
        w.open(f'file "{t["conf"]}"')
        self.comment(w, 0.3)
        self.heredoc(w, "content", self.pick(["EOT", "CONF", "EOF", "END"]), self.conf_body(sc))
        w(f"mode = {self.mode()}")
        if "user" in sc and self.chance(0.5):
            w(f'owner = "root", group = {sc.get("user")}')
        n = self.notify(sc)
        if n:
            w(n)
        w.close()

    def t_unit(self, w, sc):
        t = sc.t
        w.open(f'file "/etc/systemd/system/{t["svc"]}.service"')
        self.heredoc(w, "content", "UNIT", self.unit_body(sc), strip=True)
        w("mode = 0644")
        n = self.notify(sc)
        if n:
            w(n)
        w.close()

    def t_link(self, w, sc):
        t = sc.t
        if t["name"] == "web":
            w.open('file "/etc/nginx/sites-enabled/app"')
            w('src = "/etc/nginx/sites-available/app"')
        else:
            w.open(f'file "/etc/{t["svc"]}/current"')
            w(f'src = "/etc/{t["svc"]}/releases/${{{sc.get("version", q("1.0")) }}}"')
        w("state = link")
        n = self.notify(sc)
        if n and self.chance(0.5):
            w(n)
        w.close()

    def t_absent(self, w, sc):
        path = self.pick(["/etc/nginx/sites-enabled/default", "/etc/motd", "/etc/update-motd.d/10-uname",
                          "/usr/share/doc", "/var/cache/apt/archives", "/etc/cron.daily/apt-compat"])
        self.comment(w, 0.4)
        w(f'file "{path}" {{ state = absent }}')

    def t_copy(self, w, sc):
        t = sc.t
        what = self.pick(["logrotate policy", "CA bundle", "release tarball", "healthcheck script"])
        src = {"logrotate policy": ("files/logrotate/" + t["name"], "/etc/logrotate.d/" + t["name"]),
               "CA bundle": ("files/ca/internal-root.pem", "/usr/local/share/ca-certificates/internal-root.crt"),
               "release tarball": ("dist/" + t["name"] + ".tar.gz", "/tmp/" + t["name"] + ".tar.gz"),
               "healthcheck script": ("files/bin/healthcheck", "/usr/local/bin/healthcheck")}[what]
        w.open(f'copy "install the {what}"')
        w(f"src = {q(self.ref(src[0]))}")
        w(f"dest = {q(src[1])}")
        w(f"mode = {'0755' if 'script' in what else self.mode()}")
        if self.chance(0.3):
            w('owner = "root"; group = "root"')
        w.close()

    def t_copy_inline(self, w, sc):
        name = sc.get("name")
        w.open('copy "write the environment file"')
        w(f'dest = "/etc/default/{sc.t["svc"]}"')
        parts = ['"# generated\\n']
        if name:
            parts.append(f'APP_NAME=${{{name}}}\\n')
        if "port" in sc:
            parts.append(f'PORT=${{{sc.get("port")}}}\\n')
        if "region" in sc:
            parts.append(f'REGION=${{upper({sc.get("region")})}}\\n')
        parts.append('OPTS=\\"--log-format=json\\"\\tHOME=\\$HOME\\n"')
        w("content = " + "".join(parts))
        w("mode = 0640")
        w.close()

    def t_template(self, w, sc):
        t = sc.t
        base = t["conf"].rsplit("/", 1)[-1]
        w.open(f'template "render {base}"')
        src = self.ref("templates/" + t["name"] + "/" + base + ".tmpl")
        w(f"src = {q(src)}")
        w(f"dest = {q(t['conf'])}")
        if self.chance(0.6):
            w(f"mode = {self.mode()}")
        if "user" in sc and self.chance(0.5):
            w(f"owner = {sc.get('user')}")
        if self.chance(0.3):
            w("when " + self.when_expr(sc))
        n = self.notify(sc)
        if n:
            w(n)
        w.close()

    def t_lineinfile_sshd(self, w, sc):
        if self.chance(0.5):
            key, val = self.pick(SSHD)
            w.open(f'lineinfile "sshd: {key} {val}"')
            w('path = "/etc/ssh/sshd_config"')
            w(f"regexp = '^#?{key}\\s'")
            w(f'line = "{key} {val}"')
            if self.chance(0.5):
                w("state = present")
        else:
            w.open('lineinfile "harden sshd"')
            w("for kv in [" + ", ".join(f'{{ key = "{k}", value = "{v}" }}'
                                        for k, v in self.sample(SSHD, 2, 4)) + "]")
            w('path = "/etc/ssh/sshd_config"')
            w("regexp = format('^#?%s\\s', kv.key)")
            w('line = "${kv.key} ${kv.value}"')
        n = self.notify(sc)
        if n and self.chance(0.7):
            w(n)
        w.close()

    def t_sshd_conf(self, w, sc):
        w.open('file "/etc/ssh/sshd_config.d/10-hardening.conf"')
        body = [f"{k} {v}" for k, v in self.sample(SSHD, 3, 6)]
        if "admin" in sc:
            body.append(f"AllowUsers deploy ${{{sc.get('admin')}.name}}")
        self.heredoc(w, "content", "EOT", body)
        w(f"mode = {self.pick(['0644', '0600'])}")
        n = self.notify(sc)
        if n:
            w(n)
        w.close()

    def t_motd(self, w, sc):
        b = sc.get("banner")
        if b and self.chance(0.5):
            w(f'file "/etc/motd" {{ content = "${{{b}}}\\n", mode = 0644 }}')
        else:
            w.open('file "/etc/issue.net"')
            w(f'content = "Authorized use only \\u{{2014}} {sc.t["name"]} fleet\\n"')
            w("mode = 0644")
            w.close()

    def t_lineinfile_sysctl(self, w, sc):
        w.open('lineinfile "kernel tuning"')
        m = sc.get("sysctl")
        if m is None:
            m = "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in self.sample(SYSCTL, 2, 3)) + " }"
        w(f"for key, value in {m}")
        w('path = "/etc/sysctl.d/90-kiln.conf"')
        w("line = \"${key} = ${value}\"")
        w(f"regexp = format(\"^%s\\\\s*=\", key)")
        w.close()

    def t_lineinfile_env(self, w, sc):
        root = sc.get("root")
        w.open('lineinfile "put the app on PATH"')
        w('path = "/etc/profile.d/app.sh"')
        if root:
            w(f'line = "export PATH=\\"${{{root}}}/bin:$PATH\\""')
        else:
            w('line = "export PATH=\\"/opt/app/bin:$PATH\\""')
        w('insertafter = "EOF"')
        w("state = present")
        w.close()

    def t_users_loop(self, w, sc):
        users = self.sample(USERS, 2, 4)
        w.open('user "add operator accounts"')
        objs = [f'{{ name = "{u}", groups = {qlist(self.sample(GROUPS, 1, 2))} }}' for u in users]
        if len(objs) > 2:
            w("for u in [")
            w.ind += 1
            for o in objs:
                w(o + ",")
            w.ind -= 1
            w("]")
        else:
            w("for u in [" + ", ".join(objs) + "]")
        w("when " + self.when_expr(sc))
        w(f"name = u.name{self.sep()}groups = u.groups")
        w(f'shell = "/bin/bash"{self.sep()}home = "/home/${{u.name}}"')
        w.close()

    def t_admin_user(self, w, sc):
        adm = sc.get("admin")
        if adm is None:
            w.open(f'user "{sc.t["user"]}"')
            w(f'name = "{sc.t["user"]}"')
            w('shell = "/usr/sbin/nologin"')
            w("state = present")
        else:
            w.open('user "create the admin account"')
            w(f"name = {adm}.name")
            w(f"shell = {adm}.shell")
            w(f'home = "/home/${{{adm}.name}}"')
            w(f'groups = ["sudo", {sc.get("user", q("adm"))}]')
        w.close()

    def t_group(self, w, sc):
        w.open(f'group "{sc.t["user"]}"')
        if "user" in sc:
            w(f"name = {sc.get('user')}")
        else:
            w(f'name = "{sc.t["user"]}"')
        w(f"gid = {self.r.randint(900, 999)} + {sc.k % 50}" if self.chance(0.5)
          else f"gid = {self.r.randint(900, 999)}")
        w.close()

    def t_command(self, w, sc):
        t = sc.t
        c = self.r.randint(0, 5)
        if c == 0:
            w(f'command "{t["check"]}" {{ }}')
            return
        if c == 1:
            w.open('command "generate locales"')
            w('cmd = "locale-gen en_US.UTF-8"')
            w('creates = "/usr/lib/locale/locale-archive"')
        elif c == 2:
            w.open('command "enable the service at boot"')
            w(f'cmd = "systemctl enable {t["svc"]}.service"')
            w(f'creates = "/etc/systemd/system/multi-user.target.wants/{t["svc"]}.service"')
        elif c == 3:
            root = sc.get("root")
            w.open('command "install python dependencies"')
            w(f'cmd = "{"${" + root + "}" if root else "/srv/app"}/venv/bin/pip install --no-cache-dir -r requirements.txt"')
            w(f'chdir = {root if root else q("/srv/app")}')
            w('env = { PIP_DISABLE_PIP_VERSION_CHECK = "1", LANG = "C.UTF-8" }')
        elif c == 4:
            w.open('command "remove the apt lists"')
            w("cmd = 'rm -rf /var/lib/apt/lists/*'")
            w('removes = "/var/lib/apt/lists/lock"')
        elif "pkgs" in sc and self.chance(0.6):
            w.open('command "pre-fetch packages"')
            w(f'cmd = format("apt-get install -y --download-only %s", join(" ", {sc.get("pkgs")}))')
            w(f"when length({sc.get('pkgs')}) > 0")
        else:
            w.open("command")
            w(f'cmd = format("update-ca-certificates --fresh && echo %s", {q(t["name"])})')
        w.close()

    def t_shell_script(self, w, sc):
        t = sc.t
        w.open(f'shell "bootstrap {t["name"]}"')
        body = ["set -eu",
                f"install -d -o {t['user']} -g {t['user']} /var/log/{t['name']}"]
        if "version" in sc:
            body.append(f"echo '${{{sc.get('version')}}}' > /etc/{t['name']}-release")
        if "port" in sc:
            body.append(f"echo \"listening on port ${{{sc.get('port')}}}\" >> /var/log/{t['name']}/bootstrap.log")
        body += ["for f in /etc/" + t["name"] + "/*.dist; do",
                 "  [ -e \"$f\" ] || continue",
                 "  cp -n \"$f\" \"$(dirname $f)/$(basename $f .dist)\"",
                 "done"]
        self.heredoc(w, "cmd", "SCRIPT", body)
        if self.chance(0.5):
            w(f'creates = "/etc/{t["name"]}-release"')
        w.close()

    def t_service(self, w, sc):
        t = sc.t
        if self.chance(0.5):
            w(f'service "{t["svc"]}" {{ enabled = true{self.sep()}state = {self.pick(["started", "started", "stopped"])} }}')
        else:
            w.open(f'service "enable {t["svc"]}"')
            w(f'name = "{t["svc"]}"')
            w("enabled = " + (f"!{sc.get('debug')}" if "debug" in sc and self.chance(0.5) else "true"))
            w("state = started")
            w.close()

    def t_unarchive(self, w, sc):
        t = sc.t
        ver = sc.get("version")
        root = sc.get("root")
        w.open("unarchive \"unpack the release\"")
        if ver:
            w(f'src = "https://releases.example.com/{t["name"]}/${{{ver}}}/{t["name"]}-${{{ver}}}-${{facts.arch}}.tar.gz"')
        else:
            w(f'src = "https://releases.example.com/{t["name"]}/latest.tar.gz"')
        w(f"dest = {root if root else q('/opt/' + t['name'])}")
        w.close()

    def t_local(self, w, sc):
        t = sc.t
        w.open(f'local "{self.pick(["pack", "build", "bundle"])} the {t["name"]} artifacts"')
        w(f'cmd = "tar -czf toupload/{t["name"]}.tar.gz ../{t["name"]}"')
        w.close()

    # -- handlers, roles, images ---------------------------------------------

    def handler(self, w, sc, name, svc, action):
        if self.chance(0.5):
            w(f'handler {name} {{ service "{svc}" {{ state = {action} }} }}')
            w.tasks += 1
        else:
            w.open(f"handler {name}")
            if self.chance(0.5):
                w(f'command "{sc.t["check"]}" {{ }}')
                w.tasks += 1
            w.open(f'service "{svc}"')
            w(f"state = {action}")
            w.close()
            w.tasks += 1
            w.close()

    def params(self, k, t):
        """Section-level params and lets; returns (lines, slots)."""
        w = W()
        n, s = t["name"], f"_{k}"
        slots = {}
        w(f"# --- {n} stack #{k}: parameters " + "-" * 40)
        port = f"{n}_port{s}"
        if self.chance(0.4):
            w.open(f"param {port}: int = {t['port']}")
            w(f'description = "TCP port the {n} service listens on"')
            w.close()
        else:
            w(f"param {port}: int = {t['port']}")
        slots["port"] = port
        w(f"param {n}_workers{s}: int = {self.pick([2, 4, 8, 16])}")
        slots["workers"] = f"{n}_workers{s}"
        ver = f"{n}_version{s}"
        w(f'param {ver}: string = "{self.r.randint(1, 9)}.{self.r.randint(0, 30)}.{self.r.randint(0, 9)}"')
        slots["version"] = ver
        if self.chance(0.5):
            w(f'param region{s}: string = env("KILN_REGION")')
        else:
            w.open(f'param region{s}: string = "{self.pick(REGIONS)}"')
            w('description = "where the image is published"')
            w.close()
        slots["region"] = f"region{s}"
        w(f"param enable_tls{s}: bool = {self.pick(['true', 'false'])}")
        slots["tls"] = f"enable_tls{s}"
        w(f"param debug{s}: bool = false")
        slots["debug"] = f"debug{s}"
        w(f"param {n}_password{s}: secret")
        slots["password"] = f"{n}_password{s}"
        w(f"param log_level{s}: enum(debug, info, warn, error) = {self.pick(['info', 'warn'])}")
        slots["loglevel"] = f"log_level{s}"
        w(f'param data_dir{s}: path = "/var/lib/{n}"')
        tools = self.sample(TOOLS, 2, 5)
        w(f"param extra_packages{s}: list<string> = {qlist(tools)}")
        slots["pkgs"] = f"extra_packages{s}"
        sysctl = self.sample(SYSCTL, 2, 4)
        w(f"param sysctl{s}: map<string> = {{")
        w.ind += 1
        for a, b in sysctl:
            w(f'"{a}" = "{b}"')
        w.ind -= 1
        w("}")
        slots["sysctl"] = f"sysctl{s}"
        admin = self.pick(USERS)
        w(f"param admin{s}: object{{ name: string, uid: int, shell: string }} = "
          f'{{ name = "{admin}", uid = {1500 + k % 400}, shell = "/bin/bash" }}')
        slots["admin"] = f"admin{s}"
        w("")
        self.comment(w, 0.5)
        w(f'let {n}_name{s} = "{n}-{k}"')
        slots["name"] = f"{n}_name{s}"
        w(f'let {n}_root{s}: path = "/srv/${{{n}_name{s}}}"')
        slots["root"] = f"{n}_root{s}"
        w(f'let {n}_user{s} = "{t["user"]}"')
        slots["user"] = f"{n}_user{s}"
        w(f"let listen_ports{s}: list<int> = [{port}, {port} + 1000, enable_tls{s} ? 443 : 80]")
        w(f"let max_conns{s} = {n}_workers{s} * 1024 + {self.r.randint(0, 9) * 10}")
        w(f'let banner{s} = format("%s %s (%s)", {n}_name{s}, {ver}, region{s})')
        w(f"let labels{s} = {{ team = \"{self.pick(TEAMS)}\", \"app.kubernetes.io/name\" = {n}_name{s}, "
          f"tier = {q(self.pick(['frontend', 'backend', 'data']))} }}")
        slots["labels"] = f"labels{s}"
        w(f'let log_args{s} = debug{s} ? ["--verbose", "--trace"] : ["--log-level", "info"]')
        slots["logargs"] = f"log_args{s}"
        w(f'let first_port{s} = listen_ports{s}[0]')
        w(f'let packages_line{s} = join(" ", extra_packages{s})')
        w(f'let tier{s} = lookup(labels{s}, "tier", "backend")')
        w(f'let conf_dir{s} = dirname("{t["conf"]}")')
        w(f'let shards{s} = range(0, ({n}_workers{s} - 1) % 8 + 1)')
        w(f'let is_prod{s} = !debug{s} && region{s} != "us-west-2"')
        w(f'let high_load{s} = max_conns{s} > 4096 || {n}_workers{s} >= 8')
        w(f'let admin_uid{s} = admin{s}.uid + {self.pick([0, 100, 1000])}')
        w(f'let health_port{s} = {port} > 1024 ? {port} - 1 : {port} + 9000')
        slots["banner"] = f"banner{s}"
        w(f'let team{s} = labels{s}["team"]')
        w("")
        return w, slots

    def role(self, k, t, kind):
        """Returns (W, role_name, role_params) -- role_params: slot -> (param name, type)."""
        w = W()
        n = t["name"]
        name = f"{n}_{kind}_{k}"
        if kind == "service":
            params = [("name", "string", q(n)), ("port", "int", str(t["port"])),
                      ("user", "string", q(t["user"])), ("root", "path", q(f"/srv/{n}")),
                      ("workers", "int", "2"), ("debug", "bool", "false"),
                      ("pkgs", "list<string>", qlist(t["pkgs"][:2])),
                      ("version", "string", None)]
            rename = {"pkgs": "packages"}
            handlers = [f"restart-{t['svc']}"]
        elif kind == "hardening":
            params = [("port", "int", "22"),
                      ("sysctl", "map<string>", "{ " + ", ".join(f'"{a}" = "{b}"' for a, b in SYSCTL[:2]) + " }"),
                      ("pkgs", "list<string>", "[]")]
            rename = {"port": "ssh_port", "pkgs": "remove_packages"}
            handlers = ["restart_ssh"]
        else:  # tools
            params = [("pkgs", "list<string>", qlist(TOOLS[:3])), ("user", "string", q("root")),
                      ("debug", "bool", "false")]
            rename = {"pkgs": "packages"}
            handlers = []
        slots = {slot: rename.get(slot, slot) for slot, _, _ in params}
        heads = []
        for slot, ty, dflt in params:
            pname = rename.get(slot, slot)
            heads.append(f"{pname}: {ty}" + (f" = {dflt}" if dflt is not None else ""))
        if self.chance(0.3) and len(heads) > 3:
            w(f"role {name}(")
            w.ind += 1
            for i, h in enumerate(heads):
                w(h + ("," if i < len(heads) - 1 else ""))
            w.ind -= 1
            w(") {")
            w.ind += 1
        else:
            w.open(f"role {name}(" + ", ".join(heads) + ")")
        sc = Scope(slots, handlers, dict(t, svc="ssh") if kind == "hardening" else t, k)
        if kind == "service":
            seq = ["apt", "group", "admin_user", "dir", "conf", "unit", "template", "service"]
            seq = seq[:3] + self.sample(seq[3:7], 2, 4) + ["service"]
        elif kind == "hardening":
            seq = ["lineinfile_sshd", "lineinfile_sshd", "lineinfile_sysctl", "absent"]
            if self.chance(0.5):
                seq.append("users_loop")
        else:
            seq = ["apt_loop", "copy", "lineinfile_env"]
            if self.chance(0.5):
                seq.append("command")
        for kd in seq:
            self.task(w, sc, kd)
        if kind == "hardening":
            self.handler(w, sc, "restart_ssh", "ssh", "restarted")
        elif kind == "service":
            self.handler(w, sc, f"restart-{t['svc']}", t["svc"], "restarted")
        w.close()
        w("")
        return w, name, [(rename.get(s_, s_), s_, d) for s_, _, d in params]

    # role parameters that a stack binds to its own params and lets
    BIND = {"service": {"name", "port", "user", "root", "workers", "debug", "pkgs", "version"},
            "hardening": {"sysctl"},
            "tools": {"pkgs", "debug"}}

    def use(self, w, role, rparams, gslots, kind):
        args = []
        for pname, slot, dflt in rparams:
            if slot not in self.BIND[kind]:
                continue
            if dflt is None or (slot in gslots and self.chance(0.6)):
                if slot in gslots:
                    args.append(f"{pname} = {gslots[slot]}")
        if args and self.chance(0.2):
            # first argument positional when it is the first parameter
            first = rparams[0][0]
            if args[0].startswith(first + " = "):
                args[0] = args[0][len(first) + 3:]
        w(f"use {role}(" + ", ".join(args) + ")")

    def image(self, k, t, name, parent, gslots, roles, role_kind):
        w = W()
        n = t["name"]
        handlers = [f"restart-{t['svc']}", f"reload_{n}"]
        if role_kind == "base":
            handlers = ["restart_ssh"]
        sc = Scope(gslots, handlers, t, k)
        self.comment(w, 0.5)
        w.open(f"image {name} from {parent}")
        desc = {"base": f"OS hardening and common tools for the {n} stack",
                "app": f"{n} service, ready to run",
                "debug": f"{n} with debugging tools",
                "slim": f"minimal {n} runtime"}[role_kind]
        w(f"description = {q(desc)}")
        if role_kind == "base":
            stages = [("hardening", ["sshd_conf", "lineinfile_sshd", "lineinfile_sysctl", "absent", "motd"]),
                      ("tools", ["apt_repo", "apt_loop", "users_loop", "command"])]
        elif role_kind == "app":
            stages = [("packages", ["apt", "apt_loop", "group", "admin_user"]),
                      ("app", ["dir", "dir", "unarchive", "conf", "unit", "template", "copy",
                               "copy_inline", "link", "lineinfile_env", "shell_script", "command"]),
                      ("finalize", ["service", "command", "absent"])]
        elif role_kind == "debug":
            stages = [("debugging", ["apt_loop", "apt", "lineinfile_env", "copy_inline"])]
        else:
            stages = [("runtime", ["copy", "dir", "conf", "local"])]
        for sname, kinds in stages:
            self.comment(w)
            w.open(f"stage {sname}")
            count = self.r.randint(max(1, len(kinds) // 2), len(kinds))
            chosen = kinds[:1] + self.sample(kinds[1:], count - 1, count - 1)
            for kd in chosen:
                self.task(w, sc, kd)
            for rname, rp, rk in roles:
                if rk == "hardening" and sname == "hardening" or \
                   rk == "tools" and sname in ("tools", "debugging") or \
                   rk == "service" and sname == "app" and self.chance(0.5):
                    self.use(w, rname, rp, gslots, rk)
            w.close()
        if role_kind == "base":
            self.handler(w, sc, "restart_ssh", "ssh", "restarted")
        else:
            self.handler(w, sc, f"restart-{t['svc']}", t["svc"], "restarted")
            self.handler(w, sc, f"reload_{n}", t["svc"], "reloaded")
        if role_kind in ("app", "slim"):
            g = gslots
            w.open("config")
            w("entrypoint = " + qlist(t["entry"]))
            if t["cmd"]:
                w("cmd = " + qlist(t["cmd"]))
            w(f'env = {{ APP_ENV = {g["debug"]} ? "development" : "production", '
              f'APP_PORT = "${{{g["port"]}}}", REGION = {g["region"]} }}')
            w(f"workdir = {g['root']}")
            w(f"user = {g['user']}")
            w(f"expose = [{g['port']}" + (f", {g['port']} + 1" if self.chance(0.3) else "") + "]")
            if self.chance(0.5):
                w(f"labels = {g['labels']}")
            else:
                w("labels = {")
                w.ind += 1
                w(f'"org.opencontainers.image.title" = {g["name"]}')
                w(f'"org.opencontainers.image.version" = {g["version"]}')
                w(f'"org.opencontainers.image.source" = "https://git.example.com/{n}/{n}"')
                w.ind -= 1
                w("}")
            w.close()
            w(f'output oci "out/{name}" {{ tag = "${{{g["name"]}}}:${{{g["version"]}}}" }}')
            if self.chance(0.5):
                w(f'output docker-archive "out/{name}.docker.tar" {{ tag = "registry.example.com/{n}:latest" }}')
            if self.chance(0.5):
                w(f'output tar "out/{name}.tar.zst" {{}}')
            w(f'output checksum "out/{name}.sha256" {{}}')
            if self.chance(0.3):
                w(f'output manifest "out/{name}.manifest.json" {{ }}')
            w.open(f'test "{n} configuration is valid"')
            w(f'command {q(t["check"])} {{ }}')
            w.tasks += 1
            w.close()
            if self.chance(0.5):
                w.open(f'test "{n} listens on its port"')
                w("shell {")
                w.ind += 1
                w(f"cmd = \"ss -ltn | grep -q ':${{{g['port']}}} '\"")
                w.ind -= 1
                w("}")
                w.tasks += 1
                w.close()
        w.close()
        w("")
        self.images.append(name)
        return w

    def inventory(self, k, t, gslots, roles):
        w = W()
        n = t["name"]
        w(f"# --- {n} stack #{k}: live hosts")
        hosts = [f"{n}{i}.{self.pick(REGIONS)}.example.com" for i in range(1, self.r.randint(2, 5))]
        if self.chance(0.5):
            w(f"hosts {n}_servers_{k} {{ " + ", ".join(q(h) for h in hosts) + " }")
        else:
            w.open(f"hosts {n}_servers_{k}")
            w('user = "deploy"')
            for i, h in enumerate(hosts):
                if i == 0:
                    w(f"{q(h)} {{ port = 2222 }}")
                else:
                    w(q(h))
            w.close()
        w(f'hosts {n}_canary_{k} {{ "{n}-canary.example.com" {{ port = 22, user = "ops" }} }}')
        w(f"hosts {n}_all_{k} {{ {n}_servers_{k}, {n}_canary_{k} }}")
        sc = Scope(gslots, [f"restart-{t['svc']}"], t, k)
        w.open(f"apply {n}_all_{k}")
        w('user = "deploy"')
        for rname, rp, rk in roles:
            if rk != "service":
                self.use(w, rname, rp, gslots, rk)
        self.task(w, sc, "template")
        if self.chance(0.5):
            self.task(w, sc, "service")
        self.handler(w, sc, f"restart-{t['svc']}", t["svc"], "restarted")
        w.close()
        w("")
        return w

    def filler_image(self, tasks, t, gslots, k):
        """An image with exactly `tasks` tasks (used to hit --tasks exactly)."""
        w = W()
        name = f"{t['name']}-extra-{k}"
        sc = Scope(gslots, [], t, k)
        w.open(f"image {name} from scratch()")
        w(f'description = "extra files for the {t["name"]} stack"')
        w.open("stage extra")
        kinds = ["dir", "copy", "absent", "command", "lineinfile_env", "copy_inline"]
        for i in range(tasks):
            self.task(w, sc, kinds[i % len(kinds)])
        w.close()
        w.close()
        return w

    def section(self, k):
        """Yield items (W objects) for one application stack."""
        t = THEMES[k % len(THEMES)] if k < len(THEMES) else self.pick(THEMES)
        pw, gslots = self.params(k, t)
        yield pw
        roles = []
        kinds = ["service", "hardening", "tools"]
        for kind in kinds[: self.r.randint(1, 3)]:
            rw, rname, rparams = self.role(k, t, kind)
            roles.append((rname, rparams, kind))
            yield rw
        n = t["name"]
        # base image: from a base call, or from an earlier stack's base image
        earlier = [i for i in self.images if i.endswith("-base")]
        roll = self.r.random()
        if earlier and roll < 0.25:
            parent = self.pick(earlier[-10:])
        elif roll < 0.85:
            extra = self.pick(["", ', mirror = "' + self.pick(MIRRORS) + '"', ', variant = "minbase"'])
            parent = f'debian("bookworm"{extra})'
        else:
            parent = f'tarball("{self.ref("vendor/rootfs-bookworm-" + self.pick(["amd64", "arm64"]) + ".tar")}")'
        base = f"{n}-{k}-base"
        yield self.image(k, t, base, parent, gslots, roles, "base")
        app = f"{n}-{k}"
        yield self.image(k, t, app, base, gslots, roles, "app")
        if self.chance(0.5):
            yield self.image(k, t, f"{n}-{k}-debug", app, gslots, roles, "debug")
        if self.chance(0.3):
            yield self.image(k, t, f"{n}-{k}-slim", self.pick(["scratch()", "busybox()"]),
                             gslots, roles, "slim")
        if self.chance(0.4):
            yield self.inventory(k, t, gslots, roles)


def generate(lines_target, tasks_target, seed):
    g = Gen(seed)
    out = [f"# big.img -- generated by bench/compile/gen-img.py "
           f"({'--tasks %d' % tasks_target if tasks_target else '--lines %d' % lines_target} --seed {seed})",
           "# A synthetic fleet of application stacks for the kiln compile benchmark.",
           ""]
    tasks = 0
    k = 0
    done = False
    last = None
    while not done:
        for item in g.section(k):
            if tasks_target is not None:
                if tasks + item.tasks > tasks_target:
                    done = True
                    break
            elif len(out) + len(item.lines) > lines_target:
                done = True
                break
            out.extend(item.lines)
            tasks += item.tasks
            last = (k, item)
        if not done:
            k += 1
    if tasks_target is not None and tasks < tasks_target:
        t = THEMES[k % len(THEMES)]
        pw, gslots = g.params(10_000_000 + k, t)
        fw = g.filler_image(tasks_target - tasks, t, gslots, 10_000_000 + k)
        out.extend(pw.lines)
        out.extend(fw.lines)
        tasks += fw.tasks
    if tasks_target is None:
        i = 0
        while len(out) < lines_target:
            out.append(f"# padding {i}: end of generated stacks" if i else "# padding to the requested line count")
            i += 1
    assert not any("\n" in line for line in out), "generator produced an embedded newline"
    return out, tasks, g


def write_files(root, paths):
    import io
    import os
    import tarfile
    for rel in sorted(paths):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if rel.endswith(".tar"):
            with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tf:
                data = b"ID=debian\nVERSION_ID=12\n"
                info = tarfile.TarInfo("etc/os-release")
                info.size, info.mtime = len(data), 0
                tf.addfile(info, io.BytesIO(data))
        elif rel.endswith(".tar.gz"):
            with tarfile.open(path, "w:gz", format=tarfile.USTAR_FORMAT) as tf:
                data = b"placeholder release\n"
                info = tarfile.TarInfo("README")
                info.size, info.mtime = len(data), 0
                tf.addfile(info, io.BytesIO(data))
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(f"# placeholder for {rel}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=100000, help="number of lines (default 100000)")
    ap.add_argument("--tasks", type=int, default=None,
                    help="generate exactly this many tasks instead of --lines lines")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--count-tasks", action="store_true",
                    help="print only the number of tasks to stdout, not the document")
    ap.add_argument("-o", "--output", help="write the document here instead of stdout")
    ap.add_argument("--quiet", action="store_true", help="no summary on stderr")
    ap.add_argument("--write-files", metavar="DIR",
                    help="also create the build-machine files the source refers to "
                         "(copy/template sources, rootfs tarballs) under DIR")
    a = ap.parse_args()
    if a.lines < 1 or (a.tasks is not None and a.tasks < 0):
        ap.error("--lines must be >= 1 and --tasks >= 0")
    lines, tasks, g = generate(a.lines, a.tasks, a.seed)
    text = "\n".join(lines) + "\n"
    if a.write_files:
        write_files(a.write_files, g.files)
    if a.count_tasks:
        print(tasks)
    elif a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if not a.quiet:
        print(f"gen-img: lines={len(lines)} bytes={len(text.encode())} tasks={tasks} "
              f"images={sum(1 for x in lines if x.startswith('image '))} "
              f"roles={sum(1 for x in lines if x.startswith('role '))} seed={a.seed}", file=sys.stderr)


if __name__ == "__main__":
    main()
