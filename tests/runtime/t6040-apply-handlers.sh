#!/bin/sh
# tests/runtime/t6040-apply-handlers.sh: handlers run at the end of the stage whose tasks
# notified them, once each however many tasks notified them, in the order they are
# defined (not the order of notify), and only when a notifying task changed something: a
# task that was ok, or no notify at all, runs nothing. A role's handlers run after the
# image's own. Each handler is a shell task that appends to a log in the image; the
# unpacked image shows what ran, and in what order.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need umoci

mkdir build
cat >build/handlers.img <<'EOF'
role web() {
  file "/etc/web.conf" { content = "web\n", notify = [reload_web] }
  handler reload_web { shell "echo reload_web >> /log" {} }
}

image h from busybox() {
  stage one {
    file "/log" { content = "" }
    file "/etc/marker" { content = "m\n" }
    file "/a" { content = "a\n", notify = [beta] }
    file "/b" { content = "b\n", notify = [beta, alpha] }
    file "/etc/marker" { content = "m\n", notify = [gamma] }
    use web()
    shell "echo task-one >> /log" {}
  }
  stage two {
    shell "echo task-two >> /log" {}
    file "/c" { content = "c\n", notify = [alpha] }
    file "/a" { content = "a\n", notify = [beta] }
  }
  stage three {
    file "/c" { content = "c\n", notify = [alpha] }
    shell "echo task-three >> /log" {}
  }

  handler alpha { shell "echo alpha >> /log" {} }
  handler beta {
    shell "echo beta >> /log" {}
    shell "echo beta-2 >> /log" {}
  }
  handler gamma { shell "echo gamma >> /log" {} }
  handler unused { shell "echo unused >> /log" {} }

  output oci "out/h" { tag = "h:1" }
}
EOF

kapply_json build/handlers.img
expect_rc 0
unpack build/out/h h:1 bundle
printf '%s\n' task-one alpha beta beta-2 reload_web task-two alpha task-three >log.want
cmp -s log.want bundle/rootfs/log ||
	fail "the handlers ran as: $(tr '\n' ' ' <bundle/rootfs/log), expected: $(tr '\n' ' ' <log.want)"

# the events: handler tasks under "handler NAME", once per notified stage
jq -r 'select(.event == "task_end" and (.stage | startswith("handler "))) | "\(.stage)=\(.id)"' \
	out >handlers.got
cat >handlers.want <<'EOF'
handler alpha=h.handler.alpha.0
handler beta=h.handler.beta.0
handler beta=h.handler.beta.1
handler reload_web=h.one.5:web.handler.reload_web.0
handler alpha=h.handler.alpha.0
EOF
cmp -s handlers.want handlers.got || fail "handler events: $(tr '\n' ' ' <handlers.got)"
expect_status h.one.4 ok
expect_status h.two.2 ok
expect_status h.three.0 ok
[ "$(jq -r 'select(.event == "task_start") | .id' out | grep -c 'gamma\|unused')" -eq 0 ] ||
	fail "a handler ran that no changed task notified"
# the plain report names the handler runs
kapply --cache-dir="$TMP/cache-plain" build/handlers.img
expect_rc 0
expect_count err '^--> h/one ' 1
[ "$(grep -c 'shell echo alpha >> /log' err)" -eq 2 ] || fail "the plain report does not show alpha twice"

# a second apply: the stages are cached, no handler runs again, the log is the same
kapply_json build/handlers.img
expect_rc 0
expect_recap h 12 0 0 0 false
[ -z "$(ran_tasks)" ] || fail "tasks ran on a cache hit: $(ran_tasks | tr '\n' ' ')"
rm -rf bundle
unpack build/out/h h:1 bundle
cmp -s log.want bundle/rootfs/log || fail "after a cached apply the log is: $(tr '\n' ' ' <bundle/rootfs/log)"
say "ok: handlers run once, at the end of their stage, in definition order, only on change"
