#!/bin/sh
# tests/cli/t0041-install.sh: `cmake --install` into a prefix of the test's own puts kiln
# where tools go: the binary runs, `man kiln` and `man kiln.img` find the pages, the bash
# completion completes commands, options and image names, the zsh completion parses, the
# examples and docs are there.
. "$(dirname "$0")/../lib/test-lib.sh"
need cmake
B=${KILN_BUILD_DIR:-$TOP/build}
[ -f "$B/cmake_install.cmake" ] || skip "no CMake build tree at $B"
P=$TMP/prefix
cmake --install "$B" --prefix "$P" >install.out 2>&1 || fail "cmake --install: $(tail -n 5 install.out)"

for f in bin/kiln share/man/man1/kiln.1 share/man/man5/kiln.img.5 \
	share/bash-completion/completions/kiln share/zsh/vendor-completions/_kiln \
	share/doc/kiln/README.md share/doc/kiln/language.md share/doc/kiln/examples/hello.img; do
	[ -f "$P/$f" ] || fail "not installed: $f"
done
[ ! -e "$P/share/doc/kiln/examples/out" ] || fail "the examples' build output was installed"
"$P/bin/kiln" --version | grep -q '^kiln [0-9]' || fail "the installed kiln does not run"

if command -v man >/dev/null 2>&1; then
	[ "$(MANPATH=$P/share/man man -w kiln)" = "$P/share/man/man1/kiln.1" ] ||
		fail "man -w kiln: $(MANPATH=$P/share/man man -w kiln 2>&1)"
	[ "$(MANPATH=$P/share/man man -w kiln.img)" = "$P/share/man/man5/kiln.img.5" ] ||
		fail "man -w kiln.img: $(MANPATH=$P/share/man man -w kiln.img 2>&1)"
	MANPATH=$P/share/man MANWIDTH=100 man kiln 2>/dev/null | grep -q 'kiln apply' ||
		fail "man kiln does not show kiln apply"
fi

# bash completion, with the installed kiln first in PATH
cp "$TOP/examples/hello.img" .
complete_words()
{
	PATH="$P/bin:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kiln
		printf "%s\n" "${COMPREPLY[@]}"' sh "$P/share/bash-completion/completions/kiln" "$@"
}
complete_words kiln ap | grep -qx apply || fail "bash: 'kiln ap' does not complete to apply"
complete_words kiln apply --che | grep -qx -- --check || fail "bash: 'kiln apply --che' does not give --check"
complete_words kiln apply hello.img -only= | grep -qx -- -only=hello ||
	fail "bash: -only= does not offer the image hello: $(complete_words kiln apply hello.img -only=)"
complete_words kiln lint hel | grep -qx hello.img || fail "bash: .img files are not completed"
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$P/share/zsh/vendor-completions/_kiln" 2>zsh.err || fail "zsh: $(cat zsh.err)"
fi
