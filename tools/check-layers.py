#!/usr/bin/env python3
"""check-layers.py TOP: fail when an include or a link crosses a forbidden line.

kiln is one static library per folder. docs/architecture.md draws the
dependencies; this script holds the same table and checks the tree against it:

  - every `#include "NAME"` in a folder's .c/.h/.l/.y files must name a header
    of the folder itself or of a folder it may depend on;
  - a header's file name is unique across the folders (an include never means
    two things);
  - every kiln_* library a folder's CMakeLists.txt links is one it may depend on.

Headers found nowhere in the tree (system headers, generated ones such as
parser.h) are not checked. Exit status 0: clean; 1: the violations, one a line.
"""

import os
import re
import sys

# folder -> the folders it may use (itself included implicitly).
ALLOWED = {
    "base": [],
    "grammar": ["base"],
    "stdlib": ["base"],
    "plan": ["stdlib", "base"],
    "compiler": ["grammar", "plan", "stdlib", "base"],
    "runtime": ["plan", "stdlib", "base"],
    "lsp": ["compiler", "grammar", "plan", "stdlib", "base"],
    "cli": ["lsp", "compiler", "grammar", "runtime", "plan", "stdlib", "base"],
}

# folder -> the CMake library it builds.
LIBRARY = {
    "base": "kiln_base",
    "grammar": "kiln_grammar",
    "stdlib": "kiln_stdlib",
    "plan": "kiln_plan",
    "compiler": "kiln_compiler",
    "runtime": "kiln_runtime",
    "lsp": "kiln_lsp",
    "cli": "kiln",
}

SOURCE = re.compile(r"\.(c|h|l|y|def)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LINK = re.compile(r"target_link_libraries\s*\(\s*(\S+)([^)]*)\)", re.S)


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    problems = []
    owner = {}  # header name -> folder
    files = {}  # folder -> [paths]
    for folder in ALLOWED:
        d = os.path.join(top, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if not os.path.isfile(path) or not SOURCE.search(name):
                continue
            files.setdefault(folder, []).append(path)
            if name.endswith(".h") or name.endswith(".def"):
                if name in owner and owner[name] != folder:
                    problems.append(
                        f"{folder}/{name}: a header of this name is in {owner[name]}/ too; "
                        "rename one")
                owner.setdefault(name, folder)

    for folder, paths in sorted(files.items()):
        may = set(ALLOWED[folder]) | {folder}
        for path in paths:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                inc = os.path.basename(m.group(1))
                where = owner.get(inc)
                if where is None or where in may:
                    continue
                line = text.count("\n", 0, m.start()) + 1
                rel = os.path.relpath(path, top)
                problems.append(
                    f"{rel}:{line}: includes {where}/{inc}, but {folder}/ may use only "
                    f"{', '.join(sorted(may - {folder})) or 'nothing else'} "
                    "(docs/architecture.md)")

        cm = os.path.join(top, folder, "CMakeLists.txt")
        if os.path.isfile(cm):
            with open(cm, encoding="utf-8") as f:
                text = re.sub(r"#[^\n]*", "", f.read())
            allowed_libs = {LIBRARY[x] for x in may}
            for m in LINK.finditer(text):
                target = m.group(1)
                for lib in re.findall(r"\bkiln_[a-z_]+\b", m.group(2)):
                    if lib in LIBRARY.values() and lib not in allowed_libs:
                        problems.append(
                            f"{folder}/CMakeLists.txt: {target} links {lib}, which "
                            f"{folder}/ may not use (docs/architecture.md)")

    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} violation(s)")
        return 1
    print(f"check-layers: {sum(len(v) for v in files.values())} files, no violation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
