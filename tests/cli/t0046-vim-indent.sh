#!/bin/sh
# editors/vim/indent/kiln.vim indents as kiln fmt does: each example and each .img of
# the test corpus that kiln fmt takes, in fmt's layout, has its indentation removed
# (heredoc bodies and block comment lines kept) and is re-indented by neovim's `=`;
# the result must equal kiln fmt's output. Plus continuation lines and a
# tab-indented heredoc body, which `=` must leave alone.
. "$(dirname "$0")/../lib/test-lib.sh"
need nvim
need python3

cat >strip.py <<'PY'
import os, re, sys
# Remove the indentation of every line but heredoc bodies and terminators and the
# inner lines of block comments.
def strip(text):
    out, term, block = [], None, False
    for line in text.split("\n"):
        if term is not None:
            out.append(line)
            if line.strip() == term:
                term = None
            continue
        if block:
            out.append(line)
            block = "*/" not in line
            continue
        code = re.sub(r'"(\\.|[^"\\])*"|\'[^\']*\'', '""', line)
        code = re.sub(r"/\*.*?\*/", "", code)
        code = re.sub(r"(#|//).*", "", code)
        block = "/*" in code
        m = re.search(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)\s*$", code)
        if m:
            term = m.group(1)
        out.append(line.lstrip())
    return "\n".join(out)

# want-N.img -> flat-N.img; a file with nothing to strip is dropped.
for want in sys.argv[1:]:
    text = open(want, encoding="utf-8").read()
    flat = strip(text)
    if flat == text:
        os.remove(want)
    else:
        open(want.replace("want", "flat"), "w", encoding="utf-8").write(flat)
PY

cat >cont.img <<'KILN'
param a: int = 1
let b =
  a + 1
let c = a == 1 &&
  b == 2
let d = a == 1
  || b == 3
let e = [
  1, 2,
  3]
let f = { x = 1,
  y = [1,
    2] }
role r(names: list<string>,
  update: bool = false) {
  apt "p" {
    name = names
  }
}
image x from scratch() {
  description = a > 0 ?
    "yes" : "no"
  stage s {
    use r(["a"])
    file "a" {
      path    = "/x"
      content = <<EOT
	tab
  keep me
EOT
      mode = 0644
    }
  }
}
KILN

# Flatten every file fmt takes; one neovim re-indents them all.
n=0
for f in cont.img "$TOP"/examples/*.img "$TOP"/examples/roles/*.img $(find "$TOP/tests" -name '*.img' | sort); do
	"$KILN" fmt - <"$f" >want-$n.img 2>/dev/null || { rm want-$n.img; continue; }
	printf '%s\n' "$f" >name-$n
	n=$((n + 1))
done
python3 strip.py want-*.img
[ "$(ls flat-*.img | wc -l)" -ge 50 ] || fail "only $(ls flat-*.img | wc -l) files to re-indent"
cat >indent.vim <<'VIM'
for f in glob('flat-*.img', 0, 1)
  execute 'edit' f
  silent normal! gg=G
  execute 'silent write!' substitute(f, '^flat', 'got', '')
  bwipeout!
endfor
qa!
VIM
HOME=$TMP XDG_CONFIG_HOME=$TMP XDG_DATA_HOME=$TMP XDG_STATE_HOME=$TMP \
	timeout 240 nvim --headless -u NONE -i NONE -n --cmd "set rtp^=$TOP/editors/vim" \
	--cmd 'filetype plugin indent on' --cmd 'syntax on' -c 'source indent.vim' \
	</dev/null >nvim.out 2>&1 || fail "nvim: $(cat nvim.out)"
m=0
for want in want-*.img; do
	i=${want#want-}
	i=${i%.img}
	[ -f got-$i.img ] || fail "nvim wrote nothing for $(cat name-$i): $(cat nvim.out)"
	if ! cmp -s $want got-$i.img; then
		diff $want got-$i.img | head -20 >&2
		fail "indent of $(cat name-$i) differs from kiln fmt's"
	fi
	m=$((m + 1))
done
say "$m files re-indented as kiln fmt does"
exit 0
