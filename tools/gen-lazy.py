#!/usr/bin/env python3
"""Write base/lazy_LIB.c: libarchive, libssh or libcrypto loaded on first use (lazylib.h).

kiln does not link libarchive and libssh: they pull in libxml2, ICU, libstdc++ and
Kerberos, whose loading and relocation cost a few milliseconds at every start. Instead
base/lazy_archive.c and base/lazy_ssh.c define each function kiln calls as a small
wrapper that loads the library with dlopen the first time one of them runs and calls the
real function. This script writes those files from the declarations in the library's
headers (the preprocessed text), for the functions that the built kiln libraries leave
undefined. Run it after using a new function of either library (the link fails with an
undefined reference until then):

    tools/gen-lazy.py archive build   # or: ssh build, crypto build, curl build, deflate build
"""
import os
import re
import subprocess
import sys

LIBS = {
    "archive": {
        "soname": "libarchive.so.13",
        "headers": ["archive.h", "archive_entry.h"],
        "prefixes": ("archive_",),
        "what": "libarchive",
    },
    "crypto": {
        "soname": "libcrypto.so.3",
        "headers": ["openssl/evp.h", "openssl/hmac.h"],
        "prefixes": ("EVP_", "HMAC"),
        "what": "OpenSSL's libcrypto",
    },
    "curl": {
        "soname": "libcurl.so.4",
        "headers": ["curl/curl.h"],
        "prefixes": ("curl_",),
        "what": "libcurl",
        # the wrappers are functions: no type-checking macros of the same names
        "defines": ["CURL_DISABLE_TYPECHECK"],
    },
    "deflate": {
        "soname": "libdeflate.so.0",
        "headers": ["libdeflate.h"],
        "prefixes": ("libdeflate_",),
        "what": "libdeflate",
    },
    "ssh": {
        "soname": "libssh.so.4",
        "headers": ["libssh/libssh.h", "libssh/sftp.h"],
        "prefixes": ("ssh_", "sftp_"),
        "what": "libssh",
    },
}


# functions with variable arguments: the message is formatted here and passed as "%s"
VARIADIC = {
    "archive_set_error": """void archive_set_error(struct archive *a, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	REAL(archive_set_error)(a, code, "%s", msg);
}

""",
    # the option's number says the type of its argument (curl.h's CURLOPTTYPE_*)
    "curl_easy_setopt": """CURLcode curl_easy_setopt(CURL *a0, CURLoption a1, ...)
{
	va_list ap;
	CURLcode r;
	va_start(ap, a1);
	if (a1 < CURLOPTTYPE_OBJECTPOINT)
		r = REAL(curl_easy_setopt)(a0, a1, va_arg(ap, long));
	else if (a1 < CURLOPTTYPE_FUNCTIONPOINT || a1 >= CURLOPTTYPE_BLOB)
		r = REAL(curl_easy_setopt)(a0, a1, va_arg(ap, void *));
	else if (a1 < CURLOPTTYPE_OFF_T)
		r = REAL(curl_easy_setopt)(a0, a1, va_arg(ap, void (*)(void)));
	else
		r = REAL(curl_easy_setopt)(a0, a1, va_arg(ap, curl_off_t));
	va_end(ap);
	return r;
}

""",
    # every CURLINFO_* takes a pointer to where the value goes
    "curl_easy_getinfo": """CURLcode curl_easy_getinfo(CURL *a0, CURLINFO a1, ...)
{
	va_list ap;
	va_start(ap, a1);
	void *p = va_arg(ap, void *);
	va_end(ap);
	return REAL(curl_easy_getinfo)(a0, a1, p);
}

""",
}


def undefined(build, prefixes):
    names = set()
    for lib in ("runtime/libkiln_runtime.a", "stdlib/libkiln_stdlib.a", "base/libkiln_base.a",
                "compiler/libkiln_compiler.a", "plan/libkiln_plan.a"):
        out = subprocess.run(["nm", "-u", os.path.join(build, lib)], capture_output=True,
                             text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[-1].startswith(prefixes) and parts[-1] != "archive_error":
                names.add(parts[-1])
    return sorted(names)


def split_params(text):
    depth, cur, out = 0, "", []
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch in "(["
        depth -= ch in ")]"
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


TYPE_WORDS = {"const", "volatile", "unsigned", "signed", "int", "char", "long", "short",
              "void", "struct", "enum", "union", "float", "double", "_Bool", "restrict",
              "__restrict"}


def named(param, i):
    """The parameter with the name aI (its own name, if it has one, replaced)."""
    p = re.sub(r"\s+", " ", param).strip()
    m = re.match(r"^(.*?)(\w+)((?:\[\w*\])*)$", p)
    if m:
        head, last, arr = m.groups()
        # a name follows a type: "int flags", "const char *path"; not "const char",
        # "struct archive", "size_t"
        if head.strip() and last not in TYPE_WORDS and \
                not head.rstrip().endswith(("struct", "enum", "union")):
            return f"{head}a{i}{arr}", f"a{i}"
    return f"{p} a{i}", f"a{i}"


def main():
    lib, build = sys.argv[1], sys.argv[2]
    cfg = LIBS[lib]
    defines = "".join(f"#define {d}\n" for d in cfg.get("defines", []))
    src = defines + "".join(f"#include <{h}>\n" for h in cfg["headers"])
    text = subprocess.run(["cc", "-E", "-P", "-"], input=src, capture_output=True, text=True,
                          check=True).stdout
    text = re.sub(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)", "", text)
    text = re.sub(r"\s+", " ", text)
    out = []
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out.append(f"""/*
 * lazy_{lib}: {cfg['what']} loaded on first use. Written by tools/gen-lazy.py from
 * {cfg['what']}'s headers; do not edit: run `tools/gen-lazy.py {lib} build` again after
 * calling a function of {cfg['what']} that is not here (see lazylib.h).
 */
#include "lazylib.h"

#include <stdarg.h>
#include <stdio.h>
""")
    out.append(defines)
    for h in cfg["headers"]:
        out.append(f"#include <{h}>\n")
    out.append(f"""
static struct lazylib lib = LAZYLIB_INIT("{cfg['soname']}");

#define REAL(name) ((__typeof__(name) *)lazylib_cached(&lib, &p_##name, #name))

""")
    for name in undefined(build, cfg["prefixes"]):
        m = re.search(r"(?:^|[;}])\s*([^;{}()]*?)\b" + name + r"\s*\(([^;{}]*?)\)\s*;", text)
        if not m:
            sys.exit(f"gen-lazy: no declaration of {name}")
        ret = m.group(1).strip()
        ret = re.sub(r"\b(extern|__LA_DECL|LIBSSH_API|SSH_DEPRECATED|OSSL_DEPRECATEDIN_3_0)\b", "", ret).strip()
        params = split_params(m.group(2))
        if params == ["void"] or not params:
            decl, args = "void", ""
        elif params[-1] == "..." and name in VARIADIC:
            out.append(f"static void *p_{name};\n")
            out.append(VARIADIC[name])
            continue
        elif params[-1] == "...":
            sys.exit(f"gen-lazy: {name} takes variable arguments: add it to VARIADIC")
        else:
            pairs = [named(p, i) for i, p in enumerate(params)]
            decl = ", ".join(p for p, _ in pairs)
            args = ", ".join(a for _, a in pairs)
        ret_kw = "" if ret == "void" else "return "
        out.append(f"static void *p_{name};\n")
        out.append(f"{ret} {name}({decl})\n{{\n\t{ret_kw}REAL({name})({args});\n}}\n\n")
    path = os.path.join(top, "base", f"lazy_{lib}.c")
    with open(path, "w") as f:
        f.write("".join(out).rstrip() + "\n")
    subprocess.run(["clang-format", "-i", path], check=False)
    print(path)


if __name__ == "__main__":
    main()
