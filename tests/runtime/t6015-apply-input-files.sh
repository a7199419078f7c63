#!/bin/sh
# tests/runtime/t6015-apply-input-files.sh: the files a build reads on the build machine
# are part of the stage cache's keys, as the schemas name them. A tarball() base whose
# archive changes under the same name rebuilds from the first stage (the image gets the
# new base, not a cached stage over the old one); a changed copy source rebuilds its
# stage and the later ones, the earlier stays cached; a changed template (rendered at
# compile time) rebuilds its stage; a file a handler copies is part of the keys of the
# image's stages (the handlers are part of every stage's key). Nothing changed: every stage
# is cached.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need tar

mkdir -p build/files base/etc
echo base-one >base/etc/base.txt
tar -C base -cf build/base.tar .
echo app-one >build/files/app.txt
echo h-one >build/files/h.txt
echo 'tmpl {{ word }}' >build/t.tmpl
cat >build/a.img <<'EOF'
let word = "one"
image a from tarball("base.tar") {
  stage first {
    lineinfile "/etc/conf" { line = "x = 1", create = true }
  }
  stage second {
    copy "/app.txt" { src = "files/app.txt" }
  }
  stage third {
    template "/t.txt" { src = "t.tmpl" }
  }
  stage fourth {
    file "/marker" { content = "m\n", notify = [put_h] }
  }
  handler put_h { copy "/h.txt" { src = "files/h.txt" } }
  output tar "out/a.tar" {}
}
EOF

# the stages that ran (not cached) in the last JSON run, in order
ran_stages()
{
	ran_tasks | sed 's/^a\.\([a-z]*\)\..*/\1/' | uniq | tr '\n' ' '
}
content()
{
	tar -xOf build/out/a.tar "./$1" 2>/dev/null || tar -xOf build/out/a.tar "$1"
}

kapply_json build/a.img
expect_rc 0
[ "$(ran_stages)" = "first second third fourth handler " ] || fail "first apply ran: $(ran_stages)"
[ "$(content etc/base.txt)" = base-one ] || fail "base.txt: $(content etc/base.txt)"

kapply_json build/a.img
expect_rc 0
[ -z "$(ran_tasks)" ] || fail "an unchanged build ran: $(ran_stages)"

# 1. the base's archive changes, same name: everything runs again on the new base
echo base-two >base/etc/base.txt
tar -C base -cf build/base.tar .
kapply_json build/a.img
expect_rc 0
[ "$(ran_stages)" = "first second third fourth handler " ] ||
	fail "after the base's archive changed, ran: '$(ran_stages)'"
[ "$(content etc/base.txt)" = base-two ] ||
	fail "the image kept the old base: base.txt is $(content etc/base.txt)"

# 2. a copy source changes: its stage and the later ones run, the first is cached
echo app-two >build/files/app.txt
kapply_json build/a.img
expect_rc 0
[ "$(ran_stages)" = "second third fourth handler " ] ||
	fail "after app.txt changed, ran: '$(ran_stages)'"
[ "$(content app.txt)" = app-two ] || fail "app.txt: $(content app.txt)"

# 3. the template changes: its stage and the later ones run
echo 'tmpl changed {{ word }}' >build/t.tmpl
kapply_json build/a.img
expect_rc 0
[ "$(ran_stages)" = "third fourth handler " ] ||
	fail "after the template changed, ran: '$(ran_stages)'"
[ "$(content t.txt)" = "tmpl changed one" ] || fail "t.txt: $(content t.txt)"

# 4. the file a handler copies changes: the image's handlers are part of every stage's key
#    (any stage may notify them), their files with them
echo h-two >build/files/h.txt
kapply_json build/a.img
expect_rc 0
[ "$(ran_stages)" = "first second third fourth handler " ] ||
	fail "after the handler's file changed, ran: '$(ran_stages)'"
[ "$(content h.txt)" = h-two ] || fail "h.txt: $(content h.txt)"

kapply_json build/a.img
expect_rc 0
[ -z "$(ran_tasks)" ] || fail "an unchanged build ran: $(ran_stages)"
