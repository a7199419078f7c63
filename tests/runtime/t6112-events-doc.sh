#!/bin/sh
# tests/runtime/t6112-events-doc.sh: docs/events.md describes every event kiln apply
# --events=json emits. Runs that emit each kind (an image with an output and a cache
# note, a failing and an ignored task, -v output, a host that is refused, an error, the
# recap) are collected, and each kind that appears, and each kind runtime/events.c can
# emit, must have its "### `KIND`" section; each event has "time", and the stream's
# first event carries "version".
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

DOC=$TOP/docs/events.md
[ -f "$DOC" ] || fail "no docs/events.md"
sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/a" >/dev/null || skip "no busybox-static"
printf '[roots]\nroots/a ansible_connection=chroot\n[gone]\nnowhere ansible_connection=chroot\n' >site/hosts.ini
mkdir -p site/nowhere
cat >site/site.img <<'EOF2'
inventory "hosts.ini"

image box from busybox() {
  stage s {
    file "/hello" { content = "hi\n" }
  }
  output tar "out/box.tar" {}
}

apply roots {
  command "echo out" {}
  shell "exit 2" { ignore_errors = true }
  shell "echo bye; exit 3" {}
}

apply gone {
  command "true" {}
}
EOF2
: >"$TMP/all.json"
kapply_json -v site/site.img
cat out >>"$TMP/all.json"
kapply_json site/site.img # the cache's notes
cat out >>"$TMP/all.json"
kapply_json --limit nothing site/site.img
cat out >>"$TMP/all.json"

jq -e -s 'all(.[]; has("time"))' "$TMP/all.json" >/dev/null || fail "an event without time"
kapply_json site/site.img
[ "$(head -n 1 out | jq -c '[.event, .version]')" = '["apply_start",1]' ] ||
	fail "the first event is not apply_start with version 1: $(head -n 1 out)"

kinds=$(jq -r .event "$TMP/all.json" | sort -u)
for k in apply_start image_start stage_start task_start task_end output note artifact error recap; do
	echo "$kinds" | grep -qx "$k" || fail "the runs emitted no '$k' event (the test must cover every kind): $kinds"
done
# what the runs emitted, and what the code can emit ("event", "KIND" in runtime/*.c)
code=$(grep -ho '"event", *"[a-z_]*"' "$TOP"/runtime/*.c | sed 's/.*"\([a-z_]*\)"$/\1/' | sort -u)
[ -n "$code" ] || fail "found no event kind in runtime/*.c"
for k in $kinds $code; do
	grep -q "^### \`$k\`\$" "$DOC" || fail "docs/events.md does not document the '$k' event"
done
# and each field an emitted event has is in its section (or among the common ones)
for k in $kinds; do
	section=$(awk -v h="### \`$k\`" '$0 == h { on = 1; next } /^##/ { on = 0 } on' "$DOC")
	for f in $(jq -r --arg k "$k" 'select(.event == $k) | keys[]' "$TMP/all.json" | sort -u); do
		case $f in event | time) continue ;; esac
		echo "$section" | grep -q "\`$f\`" ||
			fail "docs/events.md's '$k' section does not describe its field '$f'"
	done
done
