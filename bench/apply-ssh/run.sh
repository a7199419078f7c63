#!/usr/bin/env bash
# Apply benchmark over SSH: kiln and ansible-playbook apply apply-rootfs's 100-task
# workload (bench/apply-rootfs/gen.py, through gen.py here) to hosts behind local sshd
# servers, side by side in one run. Run by hand, as root (not part of CI; the figures
# depend on the machine and its load):
#
#   bench/apply-ssh/run.sh                   # 1 host and 20 hosts; Ansible default and best
#   bench/apply-ssh/run.sh --quick           # Ansible once per setting
#   KILN=/path/to/kiln bench/apply-ssh/run.sh --hosts 20 --runs 5
#
# The hosts: HOSTS OpenSSH servers (sshd, Debian's openssh-server) on 127.0.0.1, each on
# a free port, with their own config, host key and client key in a temporary directory;
# never the system's sshd or its config. They serve this machine's own / (Ansible needs
# Python on the target), run as root, without a chroot, each in a mount namespace of its
# own in which
#   - WORK/hosts/hNN is bind-mounted on WORK/target: every task of the workload names a
#     path under WORK/target, so host NN's writes land in WORK/hosts/hNN, and nothing
#     outside WORK is written (Ansible's remote_tmp is under WORK/target too);
#   - /etc/passwd is a copy in which root's login shell is /bin/sh (dash): a shell that
#     reads no start-up file, so no .bashrc runs for each command (that costs up to a
#     second on some machines); /etc/shadow is a copy in which root is not locked;
#   - /run is a fresh tmpfs when the machine has no /run/sshd (privilege separation).
# Keys: ed25519; root's authorized_keys is WORK/keys/authorized_keys (AuthorizedKeysFile).
#
# Each measured run empties the hosts' trees (untimed), then times the first apply and
# the second, idempotent one: kiln (best of --runs; start-up, compile, connect, facts
# included), Ansible with its default settings (ControlPersist=60s is one of them,
# pipelining off) and Ansible's best case (pipelining = True, ControlPersist=600s), best
# of --ansible-runs each. Then the same on HOSTS hosts: kiln with --forks HOSTS when this
# kiln has that option, else one host after another (the table says which); Ansible
# (best case, forks = HOSTS) only with --ansible-hosts (it takes many minutes).
#
# Printed: wall times, per task (wall / 100, and per host-task for several hosts),
# changed/ok counts (the first apply must change all 100 tasks on every host, the second
# none), the ratios Ansible/kiln, kiln's median task time in the idempotent run (the
# task_end "ms" of --events=json: a task on a warm session), whether kiln and Ansible
# left the same files. Logs in WORK/logs. Targets: idempotent task <= 0.3 ms median;
# the idempotent apply (connect included) >= 300x faster than Ansible's best case;
# HOSTS hosts <= 3x the time of one host. Exit status 0 all met, 1 a count or result
# was wrong, 2 a target was missed (1 wins).
#
# Needs: openssh-server and openssh-client, python3, ansible (apt-get install
# openssh-server ansible), util-linux (unshare); installs nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

KILN=${KILN:-build/kiln}
RUNS=3
ARUNS=2
NHOSTS=20
DO_ANSIBLE=1
ANSIBLE_HOSTS=0
WORK=

usage() {
    echo "usage: bench/apply-ssh/run.sh [options]"
    echo "  --quick             Ansible runs once per setting"
    echo "  --runs N            kiln runs (empty trees, first apply, second apply); best counts (default $RUNS)"
    echo "  --ansible-runs N    the same for each Ansible setting (default $ARUNS)"
    echo "  --hosts N           the several-hosts case: N sshd (default $NHOSTS; 1: skip it)"
    echo "  --no-ansible        kiln figures only"
    echo "  --ansible-hosts     also Ansible (best case) on the N hosts (slow: many minutes)"
    echo "  --work DIR          work directory, kept (default: a new one under /var/tmp of which"
    echo "                      only the logs and the workload are kept)"
    echo "environment: KILN=path to the kiln binary (default build/kiln)"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) ARUNS=1; shift ;;
        --runs) RUNS=$2; shift 2 ;;
        --ansible-runs) ARUNS=$2; shift 2 ;;
        --hosts) NHOSTS=$2; shift 2 ;;
        --no-ansible) DO_ANSIBLE=0; shift ;;
        --ansible-hosts) ANSIBLE_HOSTS=1; shift ;;
        --work) WORK=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case "$RUNS$ARUNS$NHOSTS" in *[!0-9]*) echo "run.sh: --runs, --ansible-runs and --hosts take a number" >&2; exit 2 ;; esac
[ "$RUNS" -ge 1 ] && [ "$ARUNS" -ge 1 ] && [ "$NHOSTS" -ge 1 ] || { echo "run.sh: numbers must be at least 1" >&2; exit 2; }

# --- tools ------------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
    echo "run.sh: run as root (sshd logs in as root; mount namespaces)" >&2
    exit 1
fi
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
if [ "$DO_ANSIBLE" = 1 ]; then
    command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "run.sh: missing tools: install them with:  apt-get install ${missing[*]}" >&2
    exit 1
fi
case "$KILN" in
    /*) ;;
    *) if [ -x "$KILN" ]; then KILN=$(cd "$(dirname "$KILN")" && pwd)/$(basename "$KILN")
       elif [ -x "$root/$KILN" ]; then KILN=$root/$KILN
       fi ;;
esac
if [ ! -x "$KILN" ]; then
    echo "run.sh: no kiln binary at '$KILN' (build it, or set KILN=/path/to/kiln)" >&2
    exit 1
fi

KEEP_WORK=1
if [ -z "$WORK" ]; then
    WORK=$(mktemp -d /var/tmp/kiln-bench-ssh.XXXXXX)
    KEEP_WORK=0
fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
[ -n "$WORK" ] && [ "$WORK" != / ] || { echo "run.sh: bad work directory" >&2; exit 1; }
KEYS=$WORK/keys
TARGET=$WORK/target
GEN=$WORK/workload
LOGS=$WORK/logs
KH=$KEYS/known_hosts
rm -rf "$GEN" "$LOGS" "$KEYS" "$WORK/hosts" "$WORK/sshd" "$WORK/kiln-tree"
mkdir -p "$KEYS" "$TARGET" "$LOGS" "$WORK/hosts" "$WORK/sshd"
chmod 700 "$KEYS"

SSHD_PIDS=()
PORTS=()
cleanup() {
    local p
    for p in "${SSHD_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${SSHD_PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    # Ansible's ControlPersist masters of this run: their control sockets are under WORK
    for p in "$WORK"/cp-*/*; do
        [ -S "$p" ] && ssh -O exit -o ControlPath="$p" bench >/dev/null 2>&1 || true
    done
    if [ "$KEEP_WORK" = 0 ]; then
        rm -rf "$WORK/hosts" "$WORK/target" "$WORK/sshd" "$WORK/keys" "$WORK/ansible-local" \
            "$WORK/kiln-work" "$WORK/kiln-tree" "$WORK"/cp-*
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- keys, passwd, sshd -----------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C kiln-bench-host -f "$KEYS/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C kiln-bench-client -f "$KEYS/client_ed25519"
cp "$KEYS/client_ed25519.pub" "$KEYS/authorized_keys"
KEY=$KEYS/client_ed25519
awk -F: -v OFS=: '$1 == "root" { $7 = "/bin/sh" } { print }' /etc/passwd >"$KEYS/passwd"
if [ -r /etc/shadow ]; then
    awk -F: -v OFS=: '$1 == "root" { $2 = "*" } { print }' /etc/shadow >"$KEYS/shadow"
else
    printf 'root:*:19000:0:99999:7:::\n' >"$KEYS/shadow"
fi
chmod 644 "$KEYS/passwd"
chmod 640 "$KEYS/shadow"
: >"$KH"

listening() { # PORT: something listens on 127.0.0.1:PORT
    awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' \
        /proc/net/tcp
}

write_sshd_config() { # FILE PORT DIR
    {
        echo "ListenAddress 127.0.0.1"
        echo "Port $2"
        echo "HostKey $KEYS/host_ed25519"
        echo "PidFile $3/sshd.pid"
        echo "AuthorizedKeysFile $KEYS/authorized_keys"
        echo "StrictModes no"
        echo "UsePAM no"
        echo "PermitRootLogin prohibit-password"
        echo "PubkeyAuthentication yes"
        echo "PasswordAuthentication no"
        echo "KbdInteractiveAuthentication no"
        echo "Subsystem sftp internal-sftp"
        echo "UseDNS no"
        echo "MaxStartups 200"
        echo "MaxSessions 200"
        echo "LogLevel ERROR"
    } >"$1"
}

start_sshd() { # N: host hNN on a free port; appends to PORTS and SSHD_PIDS
    local n=$1 name dir port try i pid
    name=$(printf 'h%02d' "$n")
    dir=$WORK/sshd/$name
    mkdir -p "$dir" "$WORK/hosts/$name"
    for try in 1 2 3 4 5 6 7 8; do
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
        if listening "$port"; then continue; fi
        write_sshd_config "$dir/sshd_config" "$port" "$dir"
        unshare -m --propagation private sh -c '
            set -e
            mount --bind "$1" "$2"
            mount --bind "$3/passwd" /etc/passwd
            mount --bind "$3/shadow" /etc/shadow
            if [ ! -d /run/sshd ]; then
                mount -t tmpfs -o mode=0755 kiln-bench-sshd /run
                mkdir -m 0755 /run/sshd
            fi
            exec /usr/sbin/sshd -D -e -f "$4"' sh "$WORK/hosts/$name" "$TARGET" "$KEYS" \
            "$dir/sshd_config" >"$dir/log" 2>&1 &
        pid=$!
        for i in $(seq 1 100); do
            if listening "$port"; then
                SSHD_PIDS+=("$pid")
                PORTS+=("$port")
                printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$KEYS/host_ed25519.pub")" >>"$KH"
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        if grep -q 'Address already in use' "$dir/log"; then continue; fi
        echo "run.sh: sshd did not start: $(cat "$dir/log")" >&2
        exit 1
    done
    echo "run.sh: no free port for sshd" >&2
    exit 1
}

for n in $(seq 1 "$NHOSTS"); do
    start_sshd "$n"
done

# --- the workload ----------------------------------------------------------------
python3 "$here/gen.py" "$GEN" "$TARGET" "$KEY" "$KH" "${PORTS[@]}"
"$KILN" lint "$GEN/bench-1.img"
NTASKS=100
mix=$(awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}' "$GEN/workload.txt")

fresh_hosts() { # N: empty the trees of the first N hosts
    local n name
    for n in $(seq 1 "$1"); do
        name=$(printf 'h%02d' "$n")
        # the directory itself stays: it is bind-mounted in its sshd's namespace
        find "$WORK/hosts/$name" -mindepth 1 -delete
        mkdir -p "$WORK/hosts/$name"/{srv,etc,var/lib,opt,.ansible-tmp}
    done
    sync
}

elapsed() { python3 -c "import sys; print('%.6f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
min() { python3 -c "import sys; print(min(sys.argv[1:], key=float))" "$@"; }
argmin() { python3 -c "import sys; v=[float(x) for x in sys.argv[1:]]; print(v.index(min(v)) + 1)" "$@"; }

FORKS_OPT=()
if "$KILN" apply --help 2>&1 | grep -q -- '--forks'; then
    FORKS_OPT=(--forks "$NHOSTS")
fi

kiln_apply() { # IMG LOG [OPTS...] -> prints seconds
    local img=$1 log=$2 t0 t1
    shift 2
    t0=$EPOCHREALTIME
    "$KILN" apply --events=json --work-dir="$WORK/kiln-work" "$@" "$img" >"$log" 2>"$log.err" || true
    t1=$EPOCHREALTIME
    elapsed "$t0" "$t1"
}

ansible_apply() { # CFG INVENTORY LOG -> prints seconds
    local t0 t1
    t0=$EPOCHREALTIME
    (cd "$GEN" && ANSIBLE_CONFIG="$1" ansible-playbook -i "$2" playbook.yml >"$3" 2>&1) || true
    t1=$EPOCHREALTIME
    elapsed "$t0" "$t1"
}

results=$LOGS/results.txt
: >"$results"
put() { echo "$1=$2" >>"$results"; }

# kiln_series NAME IMG HOSTS [OPTS...]: RUNS runs; the best first and second apply
kiln_series() {
    local name=$1 img=$2 nh=$3 r x bs
    shift 3
    local -a f=() s=()
    for r in $(seq 1 "$RUNS"); do
        fresh_hosts "$nh"
        f+=("$(kiln_apply "$img" "$LOGS/$name-first-$r.jsonl" "$@")")
        s+=("$(kiln_apply "$img" "$LOGS/$name-second-$r.jsonl" "$@")")
        echo "$name run $r: first ${f[-1]} s, second ${s[-1]} s" >&2
    done
    bs=$(argmin "${s[@]}")
    put "${name}_first_s" "$(min "${f[@]}")"
    put "${name}_second_s" "$(min "${s[@]}")"
    put "${name}_first_counts" "$(python3 "$here/table.py" kiln-counts "$LOGS"/"$name"-first-*.jsonl)"
    put "${name}_second_counts" "$(python3 "$here/table.py" kiln-counts "$LOGS"/"$name"-second-*.jsonl)"
    put "${name}_second_median_ms" "$(python3 "$here/table.py" kiln-median "$LOGS/$name-second-$bs.jsonl")"
    for r in $(seq 1 "$RUNS"); do
        for x in first second; do
            if [ -s "$LOGS/$name-$x-$r.jsonl.err" ]; then
                echo "kiln wrote to stderr ($LOGS/$name-$x-$r.jsonl.err):" >&2
                head -5 "$LOGS/$name-$x-$r.jsonl.err" >&2
            fi
        done
    done
}

# ansible_series NAME CFG INVENTORY HOSTS RUNS
ansible_series() {
    local name=$1 cfg=$2 inv=$3 nh=$4 runs=$5 r
    local -a f=() s=()
    for r in $(seq 1 "$runs"); do
        fresh_hosts "$nh"
        f+=("$(ansible_apply "$cfg" "$inv" "$LOGS/$name-first-$r.log")")
        s+=("$(ansible_apply "$cfg" "$inv" "$LOGS/$name-second-$r.log")")
        echo "$name run $r: first ${f[-1]} s, second ${s[-1]} s" >&2
    done
    put "${name}_first_s" "$(min "${f[@]}")"
    put "${name}_second_s" "$(min "${s[@]}")"
    put "${name}_first_counts" "$(python3 "$here/table.py" ansible-counts "$LOGS"/"$name"-first-*.log)"
    put "${name}_second_counts" "$(python3 "$here/table.py" ansible-counts "$LOGS"/"$name"-second-*.log)"
}

put tasks "$NTASKS"
put mix "$mix"
put hosts "$NHOSTS"
put machine "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)"
put sshd "$(/usr/sbin/sshd -V 2>&1 | head -n 1)"
put kiln "$KILN ($("$KILN" --version 2>/dev/null | head -1))"
put load_start "$(cut -d' ' -f1-3 /proc/loadavg)"

# one host: kiln, then Ansible (default, best); kiln's tree is kept for the comparison
kiln_series kiln1 "$GEN/bench-1.img" 1
cp -a "$WORK/hosts/h01" "$WORK/kiln-tree"
put ansible "$DO_ANSIBLE"
if [ "$DO_ANSIBLE" = 1 ]; then
    put ansible_version "$(ansible-playbook --version 2>/dev/null | sed -n '1s/.*\[core \(.*\)\].*/ansible-core \1/p')"
    ansible_series adef "$GEN/ansible-default.cfg" "$GEN/inventory-1.ini" 1 "$ARUNS"
    ansible_series abest "$GEN/ansible-best.cfg" "$GEN/inventory-1.ini" 1 "$ARUNS"
    # shellcheck disable=SC2046
    compare=$(python3 "$root/bench/apply-rootfs/tally.py" compare "$WORK/kiln-tree" "$WORK/hosts/h01" \
        $(sed "s|^$TARGET||" "$GEN/compare.txt") || true)
    put compare "$compare"
fi

# several hosts
if [ "$NHOSTS" -gt 1 ]; then
    put kilnN_forks "${FORKS_OPT[*]:-none (hosts one after another)}"
    kiln_series kilnN "$GEN/bench-N.img" "$NHOSTS" "${FORKS_OPT[@]}"
    if [ "$DO_ANSIBLE" = 1 ] && [ "$ANSIBLE_HOSTS" = 1 ]; then
        ansible_series abestN "$GEN/ansible-best.cfg" "$GEN/inventory-N.ini" "$NHOSTS" 1
    fi
fi
put load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

status=0
python3 "$here/table.py" table "$results" || status=$?
echo "logs: $LOGS" >&2
exit "$status"
