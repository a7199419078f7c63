#!/bin/sh
# `cmake --install` puts the editor files where vim, neovim and Emacs look under the
# prefix (vim/vimfiles, nvim/site, emacs/site-lisp) and the VS Code extension beside
# them; neovim with the installed nvim/site as its data directory takes a kiln file
# as kiln, highlights and indents it.
. "$(dirname "$0")/../lib/test-lib.sh"
need cmake
B=${KILN_BUILD_DIR:-$TOP/build}
[ -f "$B/cmake_install.cmake" ] || skip "no CMake build tree at $B"
P=$TMP/prefix
cmake --install "$B" --prefix "$P" >install.out 2>&1 || fail "cmake --install: $(tail -n 5 install.out)"

S=$P/share
for f in vim/vimfiles/ftdetect/kiln.vim vim/vimfiles/syntax/kiln.vim vim/vimfiles/indent/kiln.vim \
	vim/vimfiles/ftplugin/kiln.vim nvim/site/ftdetect/kiln.vim nvim/site/syntax/kiln.vim \
	nvim/site/indent/kiln.vim nvim/site/ftplugin/kiln.vim emacs/site-lisp/kiln-mode.el \
	kiln/vscode/package.json kiln/vscode/extension.js kiln/vscode/language-configuration.json \
	kiln/vscode/syntaxes/kiln.tmLanguage.json; do
	[ -f "$S/$f" ] || fail "not installed: share/$f"
	cmp -s "$S/$f" "$TOP/editors/$(echo "$f" | sed 's,^vim/vimfiles/,vim/,; s,^nvim/site/,vim/,;
		s,^emacs/site-lisp/,emacs/,; s,^kiln/vscode/,vscode/,')" || fail "share/$f differs from editors/"
done

need nvim
printf 'image x from scratch() {\nstage s {\nfile "a" { path = "/x" }\n}\n}\n' >flat.img
cat >check.vim <<'VIM'
silent normal! gg=G
call writefile([&filetype, synIDattr(synID(1, 1, 1), 'name')] + getline(1, '$'), 'got.txt')
qa!
VIM
# Neovim reads $XDG_DATA_DIRS/nvim/site: the prefix's share is one of them.
HOME=$TMP XDG_CONFIG_HOME=$TMP/config XDG_DATA_HOME=$TMP/data XDG_STATE_HOME=$TMP/state \
	XDG_DATA_DIRS=$S timeout 60 nvim --headless -i NONE -n --cmd 'filetype plugin indent on' \
	--cmd 'syntax on' flat.img -c 'source check.vim' </dev/null >nvim.out 2>&1 ||
	fail "nvim: $(cat nvim.out)"
printf 'kiln\nkilnKeyword\nimage x from scratch() {\n  stage s {\n    file "a" { path = "/x" }\n  }\n}\n' >want.txt
cmp -s want.txt got.txt || { diff want.txt got.txt >&2; fail "installed neovim files"; }
exit 0
