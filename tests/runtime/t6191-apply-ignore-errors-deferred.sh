#!/bin/sh
# tests/runtime/t6191-apply-ignore-errors-deferred.sh: an ignore_errors known only at
# apply time (computed from the host's facts) is computed when the task fails, as `when`
# is, over a root filesystem host: true lets the failure pass (the recap counts it
# ignored, the next tasks run), false stops the host (failed, the rest does not run).
# Two hosts in parallel (--forks 2) give the same recaps as one. One that cannot be
# computed lets nothing pass, and the failure's message says why. kiln plan (apply --check
# against the hosts) says a failure its ignore_errors lets pass is ignored, and only that.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

for h in a b; do
	sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/$h" >/dev/null || skip "no busybox-static"
done
cat >site/hosts.ini <<'INI'
[roots]
roots/a ansible_connection=chroot
roots/b ansible_connection=chroot
INI
cat >site/site.img <<'EOF2'
inventory "hosts.ini"

apply roots {
  shell "echo first-fails; exit 3" { ignore_errors = facts.os.family == "busybox" }
  file "/etc/motd" { content = "after the ignored failure\n" }
  shell "echo second-fails; exit 4" { ignore_errors = facts.os.family == "debian" }
  file "/etc/issue" { content = "never\n" }
}
EOF2
run_kiln_in site compile --color=never -o plan.json site.img
expect_rc 0
jq -e '.applies[0].tasks[0].ignore_errors | type == "object" and has("$expr")' site/plan.json \
	>/dev/null || fail "ignore_errors from facts is not deferred in the plan: $(jq -c '.applies[0].tasks[0]' site/plan.json)"

for forks in 1 2; do
	rm -f site/roots/*/etc/motd site/roots/*/etc/issue
	kapply --forks "$forks" site/site.img
	expect_rc 1
	for h in a b; do
		[ "$(cat "site/roots/$h/etc/motd" 2>/dev/null)" = "after the ignored failure" ] ||
			fail "--forks $forks: roots/$h stopped at the failure ignore_errors lets pass"
		[ ! -e "site/roots/$h/etc/issue" ] ||
			fail "--forks $forks: roots/$h went on after the failure ignore_errors does not let pass"
		expect_match err "^roots/$h +: ok=0 +changed=1 +failed=1 .* ignored=1 " \
			"--forks $forks: the recap of roots/$h is not changed=1 failed=1 ignored=1"
	done
done

# an ignore_errors that cannot be computed (a hand-edited plan) lets nothing pass, and the
# failure's message says why
jq '.applies[0].tasks[0].ignore_errors = {"$expr": {"op": ["+", {"const": 1}, {"const": "x"}]}}' \
	site/plan.json >site/bad.json
rm -f site/roots/*/etc/motd
kapply -C site site/bad.json
expect_rc 1
expect_match err 'exited with status 3 \(ignore_errors: .*\)' "the failure does not say why ignore_errors did not apply"
expect_match err '^roots/a +: ok=0 +changed=0 +failed=1 .* ignored=0 '
[ ! -e site/roots/a/etc/motd ] || fail "the host went on after a failure whose ignore_errors could not be computed"

# kiln plan: the host's report counts the failure ignore_errors lets pass as ignored
for fam in busybox debian; do
	cat >site/drift-$fam.img <<EOF2
inventory "hosts.ini"

apply roots {
  file "/etc/passwd/x" { content = "x\n", ignore_errors = facts.os.family == "$fam" }
}
EOF2
	run_kiln_in site plan --color=never drift-$fam.img
	expect_match out '^  ! file /etc/passwd/x '
done
run_kiln_in site plan --color=never drift-busybox.img
expect_match out '^roots/a: .*1 failing \(ignored\)$' "kiln plan does not count the failure as ignored"
run_kiln_in site plan --color=never drift-debian.img
expect_no_match out 'ignored' "kiln plan counts a failure that ignore_errors does not let pass as ignored"
say "ok"
