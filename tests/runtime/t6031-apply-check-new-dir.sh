#!/bin/sh
# tests/runtime/t6031-apply-check-new-dir.sh: kiln apply --check on a fresh build where a
# task makes a directory and later tasks put files into it (the usual shape of a build):
# every task reports it would change and the check exits 0, as the real apply would
# succeed. Then the real apply does what the check said.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

mkdir -p build/pkg
echo 'from the build machine' >build/src.txt
echo 'Port {{ port }}' >build/ports.tmpl
echo packed >build/pkg/README
tar -C build -cf build/pkg.tar pkg
cat >build/newdir.img <<'EOF'
let port = 8080
image newdir from busybox() {
  stage s {
    file "/srv/app" { state = directory, mode = 0755 }
    file "/srv/app/a.txt" { content = "a\n" }
    copy "a file" { src = "src.txt", dest = "/srv/app/src.txt" }
    copy "inline" { content = "inline\n", dest = "/srv/app/inline.txt" }
    template "ports" { src = "ports.tmpl", dest = "/srv/app/ports.conf" }
    unarchive "pkg" { src = "pkg.tar", dest = "/srv/app" }
    lineinfile "a line" { path = "/srv/app/app.conf", line = "a=1", create = true }
  }
  output tar "out/newdir.tar" {}
}
EOF

kapply_json --check build/newdir.img
expect_rc 0
expect_recap newdir 0 7 0 0 false
for i in 0 1 2 3 4 5 6; do
	expect_status newdir.s.$i changed
done
[ ! -e build/out ] || fail "check mode wrote into build/out"

kapply_json build/newdir.img
expect_rc 0
expect_recap newdir 0 7 0 0 false
tar -tf build/out/newdir.tar >list
for f in a.txt src.txt inline.txt ports.conf pkg/README app.conf; do
	expect_match list "^(\./)?srv/app/$f\$"
done
say "ok: --check of a build that fills a new directory reports the changes"
