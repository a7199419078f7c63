#!/bin/sh
# tests/runtime/t1112-mod-check-all.sh: every module of the stdlib, in check mode (with and
# without --diff, in an image and on a live target), on a tree where each would change
# something: none crashes, none trips the check-mode connection (a write or a command that
# check mode refuses with EROFS: a missing ctx->check guard), and neither the tree nor the
# build machine's directory changes by a byte, a mode, an owner or a time.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
need tar
make_rootfs "$ROOT"
mkdir -p "$ROOT/srv/old/sub" "$ROOT/lib/systemd/system" "$ROOT/etc/systemd/system" src/app/sub
echo old >"$ROOT/srv/old/sub/f"
printf 'a\nPermitRootLogin yes\n' >"$ROOT/etc/ssh.conf"
printf '[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\n' \
	>"$ROOT/lib/systemd/system/ssh.service"
echo A >src/app/a
echo B >src/app/sub/b
tar -C src -czf src/app.tgz app
echo 'Listen {{ port }}' >src/ports.tmpl
L="--local-root $TMP/src"

root_before=$(tree_sum "$ROOT")
src_before=$(tree_sum src)

n=0
while IFS='	' read -r opts module args; do
	[ -n "$module" ] || continue
	case $opts in
	-) opts= ;;
	'$L') opts=$L ;;
	esac
	for extra in "" --diff; do
		# shellcheck disable=SC2086
		mod --check $extra $opts "$module" "$args"
		n=$((n + 1))
		case $msg in
		*'check mode: the module tried'*) fail "$module $args tried to change the target in check mode (refused): $msg" ;;
		esac
		case $status in
		ok | changed | skipped) ;;
		failed)
			case "$module $msg" in
			apt\ *) ;; # no dpkg on a busybox tree: apt says so
			*) fail "$module $args failed in check mode: $msg" ;;
			esac
			;;
		*) fail "$module: status '$status'" ;;
		esac
		[ "$(tree_sum "$ROOT")" = "$root_before" ] || fail "$module $args changed the tree in check mode"
		[ "$(tree_sum src)" = "$src_before" ] || fail "$module $args changed the build machine's directory"
	done
done <<'EOF'
-	command	{"cmd":"rm -rf /srv"}
-	shell	{"cmd":"echo x > /srv/x"}
-	shell	{"cmd":"echo x > /srv/x","creates":"/srv/x"}
-	file	{"path":"/srv/new","content":"x\n"}
-	file	{"path":"/srv/old/sub/f","content":"new\n","mode":"0600","owner":"daemon"}
-	file	{"path":"/srv/dir/a","state":"directory"}
-	file	{"path":"/srv/old","state":"absent"}
-	file	{"path":"/srv/old","state":"directory","owner":"daemon","recurse":true}
-	file	{"path":"/srv/link","state":"link","src":"/etc/passwd"}
-	file	{"path":"/srv/t","state":"touch"}
-	copy	{"content":"mine\n","dest":"/etc/motd","mode":"0600"}
$L	copy	{"src":"app","dest":"/opt"}
$L	template	{"src":"ports.tmpl","content":"Listen 80\n","dest":"/etc/ports.conf"}
-	lineinfile	{"path":"/etc/ssh.conf","regexp":"^PermitRootLogin","line":"PermitRootLogin no"}
-	lineinfile	{"path":"/etc/ssh.conf","line":"new line"}
-	lineinfile	{"path":"/etc/ssh.conf","regexp":"^a$","state":"absent"}
-	user	{"name":"deploy","uid":1500,"home":"/home/deploy","shell":"/bin/sh"}
-	user	{"name":"root","shell":"/bin/false"}
-	user	{"name":"daemon","state":"absent"}
-	group	{"name":"deploy","gid":1500}
-	group	{"name":"adm","state":"absent"}
$L	unarchive	{"src":"app.tgz","dest":"/srv"}
--in-image	service	{"name":"ssh","enabled":true}
-	service	{"name":"ssh","enabled":true,"state":"started"}
-	apt_repository	{"repo":"deb http://x.example/debian stable main","filename":"x"}
-	apt	{"name":"curl"}
-	apt	{"update_cache":true}
$L	local	{"cmd":"echo x > made"}
EOF
[ "$n" -ge 50 ] || fail "only $n module runs"
say "ok: $n check-mode runs of every module changed nothing"
