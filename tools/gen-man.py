#!/usr/bin/env python3
"""gen-man.py: write kiln's manual pages from the sources they describe, so
they cannot fall out of step:

  kiln.1      from `kiln --help` and `kiln help COMMAND` of every command it
              lists (usage, description, options, exit status), between a
              hand-written head (NAME, DESCRIPTION) and tail (ENVIRONMENT,
              FILES, EXAMPLES, SEE ALSO) kept here;
  kiln.img.5  from docs/language.md (headings, paragraphs, lists, code
              blocks and tables turned into roff; tables through tbl).

usage: gen-man.py KILN LANGUAGE_MD OUTDIR VERSION
No date is written: the same sources give the same bytes.
"""
import re
import subprocess
import sys


def esc(text):
    """Escape text for roff: backslashes, and a leading dot or quote."""
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)
    if text.startswith(".") or text.startswith("'"):
        text = "\\&" + text
    return text


def inline(text):
    """Markdown inline markup to roff fonts: `code`, **bold**, *italic*, links."""
    out = []
    pos = 0
    for m in re.finditer(r"`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\([^)]+\)|(?<![\w*])\*([^*\s][^*]*)\*", text):
        out.append(esc(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + esc(m.group(1)) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + esc(m.group(2)) + "\\fR")
        elif m.group(3) is not None:
            out.append(esc(m.group(3)))
        else:
            out.append("\\fI" + esc(m.group(4)) + "\\fR")
        pos = m.end()
    out.append(esc(text[pos:]))
    line = "".join(out)
    if line.startswith("\\&") is False and (line.startswith(".") or line.startswith("'")):
        line = "\\&" + line
    return line


def run(kiln, *args):
    p = subprocess.run([kiln, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, check=False)
    return p.stdout


def commands(kiln):
    text = run(kiln, "--help")
    names = []
    in_cmds = False
    for line in text.splitlines():
        if line.strip() == "commands:":
            in_cmds = True
            continue
        if in_cmds:
            m = re.match(r"^  ([a-z][a-z-]*)\s", line)
            if m:
                names.append(m.group(1))
            elif line.strip() == "":
                in_cmds = False
    return text, names


def help_sections(text):
    """Split `kiln help CMD` into usage lines, description, options, the rest."""
    lines = text.rstrip("\n").splitlines()
    usage, desc, opts, rest = [], [], [], []
    part = "usage"
    for line in lines:
        if part == "usage":
            if line.strip() == "":
                part = "desc"
                continue
            usage.append(re.sub(r"^usage: ", "", line).strip())
        elif part == "desc":
            if line.strip() in ("options:", "flags:"):
                part = "opts"
                continue
            desc.append(line)
        elif part == "opts":
            if line.strip() == "":
                part = "rest"
                continue
            m = re.match(r"^  (\S.*?)(?:\s{2,}(.*))?$", line)
            if m and line.startswith("  ") and not line.startswith("   "):
                opts.append([m.group(1), (m.group(2) or "").strip()])
            elif opts:
                opts[-1][1] = (opts[-1][1] + " " + line.strip()).strip()
        else:
            rest.append(line)
    return usage, desc, opts, rest


def paragraphs(lines):
    out, cur = [], []
    for line in lines:
        if line.strip() == "":
            if cur:
                out.append(" ".join(cur))
                cur = []
        else:
            cur.append(line.strip())
    if cur:
        out.append(" ".join(cur))
    return out


HEAD = r""".SH NAME
kiln \- bake immutable server images and converge servers from one declarative language
.SH SYNOPSIS
.B kiln
[\fB\-\-version\fR] [\fB\-\-help\fR]
.I COMMAND
[\fIARGS\fR]
.SH DESCRIPTION
\fBkiln\fR reads \fB.img\fR files, written in kiln's typed, declarative language
(see \fBkiln.img\fR(5)), checks them as a compiler does, and turns them into a plan:
images built from a base in stages of idempotent tasks (files, packages, users,
services, templates, commands) and written as artifacts (OCI image layouts, tarballs,
docker archives, disks), and hosts reached over SSH and brought to the state the same
tasks describe. \fBkiln lint\fR checks, \fBkiln plan\fR shows what would happen,
\fBkiln apply\fR does it. No agent and no Python run on the target.
"""

TAIL = r""".SH ENVIRONMENT
.TP
.B KILN_VAR_\fIname\fR
the value of the param \fIname\fR, below \fB\-var\fR and \fB\-var\-file\fR
.TP
.B KILN_CACHE_DIR
where bases and built stages are cached (default /var/cache/kiln as root)
.TP
.B KILN_WORK_DIR
where images are built (default /var/tmp/kiln)
.TP
.B SOURCE_DATE_EPOCH
the time written into artifacts (see \fBkiln.img\fR(5))
.TP
.B NO_COLOR
when set, diagnostics are not coloured
.SH FILES
.TP
.I /var/cache/kiln
the cache of bases and stages (\fB\-\-cache\-dir\fR)
.TP
.I /var/tmp/kiln
the work directory (\fB\-\-work\-dir\fR)
.SH EXAMPLES
Check a file, see what it would do, then bake it:
.PP
.RS
.nf
kiln lint hello.img
kiln plan hello.img
kiln apply hello.img
.fi
.RE
.PP
Give a param a value and build one image and those it is built from:
.PP
.RS
.nf
kiln apply \-var http_port=9090 \-only=app web.img
.fi
.RE
.SH SEE ALSO
\fBkiln.img\fR(5), \fBpacker\fR(1), \fBansible\-playbook\fR(1), \fBskopeo\fR(1)
"""


def man1(kiln, version):
    top, names = commands(kiln)
    out = ['.TH KILN 1 "" "kiln %s" "User Commands"' % version, HEAD.rstrip("\n"),
           ".SH COMMANDS"]
    for name in names:
        usage, desc, opts, rest = help_sections(run(kiln, "help", name))
        out.append('.SS "kiln %s"' % name)
        out.append(".nf")
        for u in usage:
            out.append(esc(u))
        out.append(".fi")
        for p in paragraphs(desc):
            out.append(".PP")
            out.append(esc(p))
        for flag, text in opts:
            out.append(".TP")
            out.append("\\fB" + esc(flag) + "\\fR")
            out.append(esc(text) if text else "\\&")
        for p in paragraphs(rest):
            out.append(".PP")
            out.append(esc(p))
    out.append(TAIL.rstrip("\n"))
    return "\n".join(out) + "\n"


def table(rows):
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    cells = [r for r in cells if not all(re.fullmatch(r":?-+:?", c) for c in r)]
    n = max(len(r) for r in cells)
    out = [".TS", "tab(\x07);", " ".join(["lb"] * n), " ".join(["l"] * n) + "."]
    for i, r in enumerate(cells):
        r = r + [""] * (n - len(r))
        out.append("\x07".join("T{\n" + inline(c) + "\nT}" if len(c) > 30 else inline(c) for c in r))
    out.append(".TE")
    return out


def man5(md_path, version):
    lines = open(md_path, encoding="utf-8").read().splitlines()
    out = ["'\\\" t", '.TH KILN.IMG 5 "" "kiln %s" "File Formats"' % version,
           ".SH NAME", "kiln.img \\- the language of kiln's .img files", ".SH DESCRIPTION"]
    i = 0
    para = []

    def flush():
        if para:
            out.append(".PP")
            out.append(inline(" ".join(para)))
            para.clear()

    in_contents = False
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            out += [".PP", ".RS", ".nf"]
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(esc(lines[i]) if lines[i] else "")
                i += 1
            out += [".fi", ".RE"]
        elif line.startswith("# "):
            flush()
        elif line.startswith("## "):
            flush()
            title = re.sub(r"^\d+\.\s*", "", line[3:]).strip()
            in_contents = title.lower() == "contents"
            if not in_contents:
                out.append('.SH "%s"' % esc(title.upper()))
        elif in_contents:
            pass
        elif line.startswith("### ") or line.startswith("#### "):
            flush()
            out.append('.SS "%s"' % esc(line.lstrip("#").strip()))
        elif line.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            out += table(rows)
            continue
        elif re.match(r"^\s*([-*]|\d+\.)\s+", line):
            flush()
            m = re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)$", line)
            item = [m.group(3)]
            i += 1
            while i < len(lines) and lines[i].strip() and not re.match(r"^\s*([-*]|\d+\.)\s+", lines[i]) \
                    and not lines[i].startswith("```") and not lines[i].startswith("#"):
                item.append(lines[i].strip())
                i += 1
            out.append(".IP \\(bu 2" if m.group(2) in "-*" else ".IP %s 4" % m.group(2))
            out.append(inline(" ".join(item)))
            continue
        elif line.strip() == "":
            flush()
        elif line.startswith(">"):
            para.append(line.lstrip("> ").strip())
        else:
            para.append(line.strip())
        i += 1
    flush()
    out += [".SH SEE ALSO", "\\fBkiln\\fR(1)"]
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: gen-man.py KILN LANGUAGE_MD OUTDIR VERSION")
    kiln, md, outdir, version = sys.argv[1:]
    with open(outdir + "/kiln.1", "w", encoding="utf-8") as f:
        f.write(man1(kiln, version))
    with open(outdir + "/kiln.img.5", "w", encoding="utf-8") as f:
        f.write(man5(md, version))


if __name__ == "__main__":
    main()
