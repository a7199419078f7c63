#!/bin/sh
# The folders depend on each other only as docs/architecture.md draws it: tools/check-layers.py
# passes on the tree, and fails on a copy where stdlib includes a runtime header and the
# runtime links the compiler.
. "$(dirname "$0")/../lib/test-lib.sh"

command -v python3 >/dev/null 2>&1 || skip "no python3"

python3 "$TOP/tools/check-layers.py" "$TOP" >out 2>&1 || {
	cat out
	fail "the tree crosses a line docs/architecture.md forbids"
}

# A planted violation of each kind is found.
mkdir t
cp -r "$TOP/base" "$TOP/stdlib" "$TOP/runtime" t/
echo '#include "conn_int.h"' >>t/stdlib/doc.c
sed -i 's/target_link_libraries(kiln_runtime PUBLIC/& kiln_compiler/' t/runtime/CMakeLists.txt
if python3 "$TOP/tools/check-layers.py" t >out 2>&1; then
	cat out
	fail "check-layers passed a tree with planted violations"
fi
grep -q '^stdlib/doc.c:[0-9]*: includes runtime/conn_int.h' out || fail "include violation not named"
grep -q 'kiln_runtime links kiln_compiler' out || fail "link violation not named"
