#!/bin/sh
# kiln lint on broken versions of real files: each example and a few golden inputs
#   - cut at every byte offset (every 7th for files of 4 KiB or more),
#   - with each pair of adjacent tokens swapped,
#   - with each bracket removed, and with brackets added at pseudo-random places;
# and one template cut at every byte offset, used by a build.
# kiln must never crash or hang: it exits 0 or 1, writes nothing to stdout, and when it exits 1
# its stderr holds an error[E...] for each error it counts (its summary line). Files are
# linted in batches (each file named is a build of its own); a batch that fails is run
# again file by file to name the input at fault.
# ctest-timeout: 600
. "$(dirname "$0")/../lib/test-lib.sh"
need awk

BATCH=${KILN_CORPUS_BATCH:-64}

# The corpus, copied so that imports, templates and inventories resolve next to the mutants.
cp -R "$TOP/examples" ex
mkdir gold
cp -R "$TOP/tests/compile/syntax" "$TOP/tests/compile/plan" "$TOP/tests/compile/values" gold/
inputs="ex/hello.img ex/base.img ex/web.img ex/inventory.img ex/inventory-ini.img
ex/pipeline.img ex/variables.img ex/roles/common.img
gold/syntax/0037-full-example.img gold/syntax/0031-heredoc.img
gold/syntax/0028-strings-interpolation.img gold/syntax/0035-utf8.img
gold/plan/handlers.img gold/plan/when-facts.img gold/plan/templates.img
gold/values/four-mistakes-one-run.img"
for f in $inputs; do
	[ -f "$f" ] || fail "corpus file missing: $f"
done

# mutate.awk: read one file whole; write its mutants next to it as zz-NAME-KIND-N.EXT and
# print "PATH<TAB>what was done" for each to stdout. Bytes, not characters (LC_ALL=C).
cat >mutate.awk <<'AWK'
BEGIN { RS = "\001"; text = "" }
{ text = (NR > 1 ? text "\001" : "") $0 }
function out(kind, k, body,   f) {
	f = sprintf("%s/zz-%s-%s%05d.%s", dir, base, kind, k, ext)
	printf "%s", body > f
	close(f)
	printf "%s\t%s\n", f, what
}
function tokenize(t, n,   i, c, c2, start, k) {
	k = 0
	i = 1
	while (i <= n) {
		c = substr(t, i, 1)
		if (c == " " || c == "\t" || c == "\r" || c == "\n") { i++; continue }
		if (c == "#" || substr(t, i, 2) == "//") {
			while (i <= n && substr(t, i, 1) != "\n") i++
			continue
		}
		if (substr(t, i, 2) == "/*") {
			i += 2
			while (i <= n && substr(t, i, 2) != "*/") i++
			i += 2
			continue
		}
		start = i
		if (c == "\"" || c == "'") {
			i++
			while (i <= n) {
				c2 = substr(t, i, 1)
				if (c == "\"" && c2 == "\\") { i += 2; continue }
				i++
				if (c2 == c || c2 == "\n") break
			}
		} else if (c ~ /[A-Za-z_]/) {
			while (i <= n && substr(t, i, 1) ~ /[A-Za-z0-9_-]/) i++
		} else if (c ~ /[0-9]/) {
			while (i <= n && substr(t, i, 1) ~ /[A-Za-z0-9_]/) i++
		} else if (substr(t, i, 2) ~ /^(==|!=|<=|>=|&&|\|\||<<|\$\{|\{\{|\}\}|\{%|%\})$/) {
			i += 2
		} else {
			i++
		}
		if (i > n + 1) i = n + 1
		k++
		ts[k] = start
		te[k] = i
	}
	return k
}
END {
	n = length(text)
	# cut at every offset (every 7th from 4 KiB)
	step = n < 4096 ? 1 : 7
	for (i = 0; i < n; i += step) {
		what = sprintf("%s cut to its first %d bytes", src, i)
		out("cut", i, substr(text, 1, i))
	}
	if (ext != "img") exit
	# swap each pair of adjacent tokens
	nt = tokenize(text, n)
	for (k = 1; k < nt; k++) {
		a = substr(text, ts[k], te[k] - ts[k])
		b = substr(text, ts[k + 1], te[k + 1] - ts[k + 1])
		gap = substr(text, te[k], ts[k + 1] - te[k])
		what = sprintf("%s with tokens %d and %d swapped: '%s' '%s'", src, k, k + 1, a, b)
		out("swap", k, substr(text, 1, ts[k] - 1) b gap a substr(text, te[k + 1]))
	}
	# remove each bracket
	m = 0
	for (i = 1; i <= n; i++) {
		c = substr(text, i, 1)
		if (index("{}[]()", c)) {
			m++
			what = sprintf("%s without the '%s' at byte %d", src, c, i - 1)
			out("del", m, substr(text, 1, i - 1) substr(text, i + 1))
		}
	}
	# add a bracket at 40 pseudo-random places
	srand(seed)
	for (j = 1; j <= 40; j++) {
		p = int(rand() * (n + 1))
		c = substr("{}[]()", int(rand() * 6) + 1, 1)
		what = sprintf("%s with a '%s' added at byte %d", src, c, p)
		out("add", j, substr(text, 1, p) c substr(text, p + 1))
	}
}
AWK

: >manifest
seed=0
for f in $inputs; do
	seed=$((seed + 1))
	d=$(dirname "$f")
	b=$(basename "$f" .img)
	awk -v dir="$d" -v base="$b" -v ext=img -v src="$f" -v seed="$seed" -f mutate.awk "$f" \
		>>manifest || fail "mutate.awk failed on $f"
done

# A template cut at every byte offset, each rendered by a copy of templates.img.
tdir=gold/plan
awk -v dir="$tdir/templates" -v base=site -v ext=tmpl -v src=gold/plan/templates/site.conf.tmpl \
	-v seed=99 -f mutate.awk "$tdir/templates/site.conf.tmpl" >tmanifest ||
	fail "mutate.awk failed on the template"
[ -s tmanifest ] || fail "no template mutants"
awk -F '\t' -v dir="$tdir" '
	NR == FNR { img = img $0 "\n"; next }
	{
		t = $1
		sub(/^.*\/templates\//, "templates/", t)
		name = t
		sub(/^templates\//, "", name)
		sub(/\.tmpl$/, "", name)
		sub(/^zz-/, "", name)
		body = img
		gsub(/templates\/site\.conf\.tmpl/, t, body)
		f = dir "/zz-tmpl-" name ".img"
		printf "%s", body > f
		close(f)
		printf "%s\t%s\n", f, $2
	}' "$tdir/templates.img" tmanifest >>manifest
grep -q 'templates/zz-site-cut' "$tdir"/zz-tmpl-site-cut00100.img ||
	fail "the template's builds do not name the cut templates"

total=$(wc -l <manifest)
[ "$total" -gt 15000 ] || fail "expected more than 15000 broken files, made $total"

# check_run LOG: the last run ($rc, out, err) behaved, or print why not to LOG.
check_run()
{
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		echo "exit status $rc" >"$1"
		return 1
	fi
	if [ -s out ]; then
		echo "wrote to stdout" >"$1"
		return 1
	fi
	if grep -Eq '^(==[0-9]+==ERROR: |SUMMARY: (Address|Leak|Undefined)Sanitizer|.*runtime error: )' err; then
		echo "a sanitizer report" >"$1"
		return 1
	fi
	shown=$(grep -Ec 'error\[E[0-9]{4}\]' err || true)
	counted=$(sed -n 's/^kiln: \([0-9][0-9]*\) errors\{0,1\}, [0-9][0-9]* warnings\{0,1\}$/\1/p' err)
	if [ "$rc" -eq 1 ]; then
		if [ "$shown" -eq 0 ]; then
			echo "exit status 1 without an error[E...]" >"$1"
			return 1
		fi
		if [ "$counted" != "$shown" ]; then
			echo "the summary counts ${counted:-no} errors, stderr shows $shown" >"$1"
			return 1
		fi
	elif [ "$shown" -ne 0 ]; then
		echo "exit status 0 with $shown errors shown" >"$1"
		return 1
	fi
	return 0
}

# lint_in DIR FILES...: one bounded run of kiln lint in DIR.
lint_in()
{
	_d=$1
	shift
	rc=0
	(cd "$_d" && exec timeout -k 5 60 $KILN lint --color=never --max-errors=0 "$@") \
		>out 2>err </dev/null || rc=$?
	return 0
}

# The runs, in batches of files of one directory.
bad=0
runs=0
cut -f1 manifest | awk -F/ '{ d = $0; sub(/\/[^\/]*$/, "", d); f = $NF; print d "\t" f }' |
	sort -k1,1 -s >bydir
cut -f1 bydir | uniq >dirs
while IFS= read -r d; do
	awk -F '\t' -v d="$d" '$1 == d { print $2 }' bydir >files
	split -l "$BATCH" files batch.
	for bf in batch.*; do
		# shellcheck disable=SC2046
		set -- $(cat "$bf")
		runs=$((runs + 1))
		lint_in "$d" "$@"
		if check_run why; then
			rm -f "$bf"
			continue
		fi
		# find the file at fault
		found=0
		for f in "$@"; do
			lint_in "$d" "$f"
			if ! check_run why1; then
				found=1
				bad=$((bad + 1))
				say "BROKEN: $(awk -F '\t' -v p="$d/$f" '$1 == p { print $2 }' manifest): $(cat why1)"
				head -n 12 err | cut -c1-200 >&2
			fi
		done
		if [ "$found" -eq 0 ]; then
			bad=$((bad + 1))
			say "BROKEN: the batch of $# files from $d/$1 on fails only together: $(cat why)"
			lint_in "$d" "$@"
			head -n 12 err | cut -c1-200 >&2
		fi
		rm -f "$bf"
	done
done <dirs

say "$total broken files in $runs runs of kiln lint"
[ "$bad" -eq 0 ] || fail "$bad inputs made kiln crash, hang or fail without an error"
