#!/usr/bin/env bash
# Apply benchmark on a rootfs: kiln and ansible-playbook (community.general.chroot
# connection) apply the same generated 100-task workload to a fresh copy of the
# same Debian tree, side by side in one run. Run by hand, as root (it is not part
# of CI; the figures depend on the machine):
#
#   bench/apply-rootfs/run.sh                # kiln best of 3, Ansible best of 2
#   bench/apply-rootfs/run.sh --quick        # Ansible once
#   KILN=/path/to/kiln bench/apply-rootfs/run.sh --runs 5 --ansible-runs 1
#
# The tree: `debootstrap --variant=minbase --include=python3 bookworm` (Ansible
# needs Python in the chroot), made once and kept as WORK/bookworm-minbase-python3.tar;
# every measured run extracts a fresh copy (untimed), then times the first apply and
# the second, idempotent one. gen.py writes the workload (bench.img for kiln;
# playbook.yml, inventory.ini and ansible.cfg for Ansible; the same template files).
#
# Printed: wall time of both applies (best of the runs; kiln's start-up and compile
# included), per task, changed / ok counts of both tools (the first apply must change
# all 100 tasks, the second none), the kiln/Ansible ratios, how kiln's wall time splits
# (start-up and compile; opening and closing the rootfs; the tasks, from the recap's
# seconds and the task_end "ms" fields of --events=json), kiln's median task time in
# the second apply, and whether both tools left the same files (type, mode, owner,
# content). The machine's load average is printed too: other work on it moves the
# figures, Ansible's most. Logs: WORK/logs. Targets: idempotent task <= 0.05 ms (median); the whole idempotent apply
# >= 1000x faster than Ansible's; the first >= 300x faster. Exit status: 0 all met,
# 1 a count or result was wrong, 2 a target was missed (1 wins).
#
# Needs debootstrap (the first time), tar, python3 and ansible (Debian:
# apt-get install debootstrap ansible); installs nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

KILN=${KILN:-build/kiln}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
RUNS=3
ARUNS=2
WORK=/var/tmp/kiln-bench-apply
DO_ANSIBLE=1
KEEP_TREES=0

usage() {
    cat <<EOF
usage: bench/apply-rootfs/run.sh [options]
  --quick             Ansible runs once (kiln still $RUNS times)
  --runs N            kiln runs (fresh tree, first apply, second apply); best counts (default $RUNS)
  --ansible-runs N    the same for Ansible (default $ARUNS; about 1.5 min each)
  --no-ansible        kiln figures only
  --work DIR          work directory: the cached tarball, the workload, the trees, the logs
                      (default $WORK; the trees are removed at the end, the rest kept)
  --keep-trees        keep the two trees of the last runs (WORK/kiln-root, WORK/ansible-root)
environment: KILN=path to the kiln binary (default build/kiln), MIRROR=Debian mirror
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) ARUNS=1; shift ;;
        --runs) RUNS=$2; shift 2 ;;
        --ansible-runs) ARUNS=$2; shift 2 ;;
        --no-ansible) DO_ANSIBLE=0; shift ;;
        --work) WORK=$2; shift 2 ;;
        --keep-trees) KEEP_TREES=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case "$RUNS$ARUNS" in *[!0-9]*) echo "run.sh: --runs and --ansible-runs take a number" >&2; exit 2 ;; esac
[ "$RUNS" -ge 1 ] && [ "$ARUNS" -ge 1 ] || { echo "run.sh: at least one run" >&2; exit 2; }

# --- tools ------------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
    echo "run.sh: run as root (both tools chroot into the tree)" >&2
    exit 1
fi
missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v tar >/dev/null 2>&1 || missing+=(tar)
if [ "$DO_ANSIBLE" = 1 ]; then
    command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "run.sh: missing tools: ${missing[*]}" >&2
    echo "  install them with:  apt-get install ${missing[*]}" >&2
    exit 1
fi
if [ "$DO_ANSIBLE" = 1 ] && ! ansible-doc -t connection community.general.chroot >/dev/null 2>&1; then
    echo "run.sh: Ansible has no community.general.chroot connection" >&2
    echo "  (Debian's 'ansible' package has it; 'ansible-core' alone does not)" >&2
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

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
TARBALL=$WORK/bookworm-minbase-python3.tar
KROOT=$WORK/kiln-root
AROOT=$WORK/ansible-root
GEN=$WORK/workload
LOGS=$WORK/logs

cleanup() {
    if [ "$KEEP_TREES" = 0 ]; then
        rm -rf "$KROOT" "$AROOT"
    fi
    rm -rf "$WORK/debootstrap.tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the tree, cached as a tarball --------------------------------------------
if [ ! -s "$TARBALL" ]; then
    command -v debootstrap >/dev/null 2>&1 || {
        echo "run.sh: debootstrap is needed once to make $TARBALL (apt-get install debootstrap)" >&2
        exit 1
    }
    echo "making the tree: debootstrap --variant=minbase --include=python3 bookworm (once)" >&2
    rm -rf "$WORK/debootstrap.tmp"
    if ! debootstrap --variant=minbase --include=python3 bookworm "$WORK/debootstrap.tmp" "$MIRROR" \
            >"$WORK/debootstrap.log" 2>&1; then
        echo "run.sh: debootstrap failed; see $WORK/debootstrap.log" >&2
        exit 1
    fi
    tar -C "$WORK/debootstrap.tmp" --numeric-owner --xattrs -cpf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$WORK/debootstrap.tmp"
fi

fresh_tree() { # DIR
    rm -rf "$1"
    mkdir -p "$1"
    tar -C "$1" --numeric-owner --xattrs -xpf "$TARBALL"
}

# --- the workload -------------------------------------------------------------
rm -rf "$GEN" "$LOGS"
mkdir -p "$GEN" "$LOGS"
python3 "$here/gen.py" "$GEN" "$KROOT" "$AROOT"
"$KILN" lint "$GEN/bench.img"
NTASKS=100
mix=$(awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}' "$GEN/workload.txt")

# seconds between two $EPOCHREALTIME values
elapsed() { python3 -c "import sys; print('%.6f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
min() { python3 -c "import sys; print(min(sys.argv[1:], key=float))" "$@"; }

kiln_apply() { # LOG -> prints seconds
    local t0 t1
    t0=$EPOCHREALTIME
    "$KILN" apply --events=json --work-dir="$WORK/kiln-work" "$GEN/bench.img" >"$1" 2>"$1.err" || true
    t1=$EPOCHREALTIME
    elapsed "$t0" "$t1"
}

ansible_apply() { # LOG -> prints seconds
    local t0 t1
    t0=$EPOCHREALTIME
    (cd "$GEN" && ANSIBLE_CONFIG="$GEN/ansible.cfg" ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" \
        ansible-playbook playbook.yml >"$1" 2>&1) || true
    t1=$EPOCHREALTIME
    elapsed "$t0" "$t1"
}

# --- kiln ---------------------------------------------------------------------
# index of the smallest of its arguments (1-based)
argmin() { python3 -c "import sys; v=[float(x) for x in sys.argv[1:]]; print(v.index(min(v)) + 1)" "$@"; }
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
declare -a kf ks
for r in $(seq 1 "$RUNS"); do
    fresh_tree "$KROOT"
    sync
    kf+=("$(kiln_apply "$LOGS/kiln-first-$r.jsonl")")
    ks+=("$(kiln_apply "$LOGS/kiln-second-$r.jsonl")")
    echo "kiln run $r: first ${kf[-1]} s, second ${ks[-1]} s" >&2
done
bf=$(argmin "${kf[@]}")
bs=$(argmin "${ks[@]}")
read -r -a k1 <<<"$(python3 "$here/tally.py" kiln "$LOGS/kiln-first-$bf.jsonl")"
read -r -a k2 <<<"$(python3 "$here/tally.py" kiln "$LOGS/kiln-second-$bs.jsonl")"
k1_split="${k1[6]} ${k1[7]}"
k2_split="${k2[6]} ${k2[7]}"
kmed=${k2[5]}
# every run must count alike: show a run whose counts are wrong, if any
for r in $(seq 1 "$RUNS"); do
    read -r -a c1 <<<"$(python3 "$here/tally.py" kiln "$LOGS/kiln-first-$r.jsonl")"
    read -r -a c2 <<<"$(python3 "$here/tally.py" kiln "$LOGS/kiln-second-$r.jsonl")"
    if [ "${c1[0]}" != "$NTASKS" ] || [ "${c1[3]}" != 0 ]; then k1=("${c1[@]}"); fi
    if [ "${c2[0]}" != 0 ] || [ "${c2[3]}" != 0 ]; then k2=("${c2[@]}"); fi
done
for f in "$LOGS"/kiln-*.err; do
    if [ -s "$f" ]; then echo "kiln wrote to stderr ($f):" >&2; head -5 "$f" >&2; fi
done

# --- Ansible ------------------------------------------------------------------
declare -a af as
a1=(- - - -) a2=(- - - -)
aver=
if [ "$DO_ANSIBLE" = 1 ]; then
    aver=$(ansible-playbook --version 2>/dev/null | sed -n '1s/.*\[core \(.*\)\].*/ansible-core \1/p')
    for r in $(seq 1 "$ARUNS"); do
        fresh_tree "$AROOT"
        sync
        af+=("$(ansible_apply "$LOGS/ansible-first-$r.log")")
        as+=("$(ansible_apply "$LOGS/ansible-second-$r.log")")
        echo "ansible run $r: first ${af[-1]} s, second ${as[-1]} s" >&2
        read -r -a c1 <<<"$(python3 "$here/tally.py" ansible "$LOGS/ansible-first-$r.log")"
        read -r -a c2 <<<"$(python3 "$here/tally.py" ansible "$LOGS/ansible-second-$r.log")"
        if [ "$r" = 1 ] || [ "${c1[0]}" != "$NTASKS" ]; then a1=("${c1[@]}"); fi
        if [ "$r" = 1 ] || [ "${c2[0]}" != 0 ]; then a2=("${c2[@]}"); fi
    done
    cmp=$(python3 "$here/tally.py" compare "$KROOT" "$AROOT" $(cat "$GEN/compare.txt") || true)
fi

# --- the table ----------------------------------------------------------------
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
    echo "tasks=$NTASKS"
    echo "mix=$mix"
    echo "tree=debootstrap bookworm minbase + python3"
    echo "machine=$(nproc) CPUs, $cpu, Linux $(uname -r)"
    echo "load_start=$load_start"
    echo "load_end=$load_end"
    echo "kiln=$KILN ($("$KILN" --version 2>/dev/null | head -1))"
    echo "kiln_runs=$RUNS"
    echo "kiln_first_s=$(min "${kf[@]}")"
    echo "kiln_second_s=$(min "${ks[@]}")"
    echo "kiln_first_counts=${k1[*]:0:4}"
    echo "kiln_second_counts=${k2[*]:0:4}"
    echo "kiln_first_host_ms=${k1_split% *}"
    echo "kiln_first_tasks_ms=${k1_split#* }"
    echo "kiln_second_host_ms=${k2_split% *}"
    echo "kiln_second_tasks_ms=${k2_split#* }"
    echo "kiln_median_ms=$kmed"
    echo "ansible=$DO_ANSIBLE"
    if [ "$DO_ANSIBLE" = 1 ]; then
        echo "ansible_version=$aver"
        echo "ansible_runs=$ARUNS"
        echo "ansible_first_s=$(min "${af[@]}")"
        echo "ansible_second_s=$(min "${as[@]}")"
        echo "ansible_first_counts=${a1[*]}"
        echo "ansible_second_counts=${a2[*]}"
        echo "compare=$cmp"
    fi
} >"$LOGS/results.txt"
status=0
python3 "$here/tally.py" table "$LOGS/results.txt" || status=$?
echo "logs: $LOGS" >&2
if grep -qs " $WORK/" /proc/mounts; then
    echo "run.sh: mounts left under $WORK:" >&2
    grep " $WORK/" /proc/mounts >&2
    status=1
fi
exit "$status"
