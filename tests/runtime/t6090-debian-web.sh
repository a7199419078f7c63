#!/bin/sh
# tests/runtime/t6090-debian-web.sh: the slow one. kiln apply examples/web.img (a copy, in
# $TMP) bakes the three Debian images for real: debootstrap bookworm minbase, apt installs
# openssh-server and apache2, templates, users, outputs. Every recap has failed=0; skopeo
# reads the app image's OCI layout (with the configured port exposed); the unpacked image
# has apache2 installed (dpkg status), the templates rendered with the configured port and
# the app in place. A second apply with the same cache changes nothing. Both times are
# reported. Skipped when the Debian mirror cannot be reached within 10 seconds.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need debootstrap
need skopeo
need umoci

MIRROR=http://deb.debian.org/debian
if command -v curl >/dev/null 2>&1; then
	timeout 10 curl -fsI "$MIRROR/dists/bookworm/Release" >/dev/null 2>&1 ||
		skip "the Debian mirror $MIRROR does not answer within 10 s"
elif command -v wget >/dev/null 2>&1; then
	timeout 10 wget -q --spider "$MIRROR/dists/bookworm/Release" >/dev/null 2>&1 ||
		skip "the Debian mirror $MIRROR does not answer within 10 s"
else
	skip "needs curl or wget to probe the Debian mirror"
fi
# two Debian builds take minutes, not the two the other tests are given
KILN_TEST_TIMEOUT=${KILN_TEST_SLOW_TIMEOUT:-1500}

cp -R "$TOP/examples" examples
rm -rf examples/out
PORT=9090

t0=$(date +%s)
kapply_json -var http_port=$PORT examples/web.img
t1=$(date +%s)
cp out first.json
expect_rc 0
for img in base app_base app; do
	[ "$(jq -r --arg n $img 'select(.event == "recap" and .name == $n) | "\(.failed) \(.aborted)"' out)" = \
		"0 false" ] || fail "image $img: $(jq -c --arg n $img 'select(.event == "recap" and .name == $n)' out)"
done
[ "$(jq -s '[.[] | select(.event == "recap") | .changed] | add' out)" -gt 10 ] ||
	fail "the first apply changed almost nothing"

# the app image: skopeo reads it; the config has the port and the app's directory
skopeo inspect --config oci:examples/out/app:my-app:1.0 >config.json 2>skopeo.err ||
	fail "skopeo inspect oci:examples/out/app:my-app:1.0: $(cat skopeo.err)"
jq -e --arg p "$PORT/tcp" '.config.ExposedPorts | has($p)' config.json >/dev/null ||
	fail "port $PORT is not exposed: $(jq -c .config.ExposedPorts config.json)"
jq -e '.config.WorkingDir == "/srv/app" and .config.User == "www-data"
	and .config.Entrypoint == ["/usr/sbin/apachectl"]' config.json >/dev/null ||
	fail "the app's config: $(jq -c .config config.json)"
skopeo inspect oci:examples/out/base:base:latest >/dev/null 2>skopeo.err ||
	fail "skopeo inspect oci:examples/out/base:base:latest: $(cat skopeo.err)"
(cd examples/out && sha256sum -c app.sha256) >sum.out 2>&1 || fail "sha256sum -c: $(tail -n 3 sum.out)"

unpack examples/out/app my-app:1.0 bundle
R=bundle/rootfs
awk '/^Package: apache2$/ { p = 1 } p && /^Status:/ { print; exit }' $R/var/lib/dpkg/status >apache.status
[ "$(cat apache.status)" = "Status: install ok installed" ] ||
	fail "apache2 is not installed: '$(cat apache.status)'"
grep -q '^Package: openssh-server$' $R/var/lib/dpkg/status || fail "openssh-server (from base) is not installed"
expect_match $R/etc/apache2/ports.conf "^Listen $PORT\$" "ports.conf: $(cat $R/etc/apache2/ports.conf)"
expect_match $R/etc/apache2/sites-available/000-default.conf "^<VirtualHost \\*:$PORT>\$"
expect_match $R/etc/apache2/sites-available/000-default.conf 'DocumentRoot /srv/app'
expect_match $R/etc/ssh/sshd_config.d/10-hardening.conf '^PermitRootLogin no$'
expect_match $R/etc/passwd '^testuser1:'
[ -f $R/srv/app/index.html ] || fail "the app is not in /srv/app"
[ "$(stat -c %U $R/srv/app/index.html 2>/dev/null || stat -c %u $R/srv/app/index.html)" = www-data ] ||
	[ "$(stat -c %u $R/srv/app/index.html)" = 33 ] || fail "index.html is not www-data's"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory still holds $(ls -A "$WORK")"

# the second apply: the same cache, nothing changes
t2=$(date +%s)
kapply_json -var http_port=$PORT examples/web.img
t3=$(date +%s)
expect_rc 0
say "time: first apply $((t1 - t0)) s, second apply $((t3 - t2)) s"
changed=$(jq -r 'select(.event == "recap") | "\(.name)=\(.changed)/\(.failed)"' out | tr '\n' ' ')
[ "$(jq -s '[.[] | select(.event == "recap") | .changed + .failed] | add' out)" -eq 0 ] ||
	fail "the second apply changed or failed something (image=changed/failed): $changed"
say "ok: web.img bakes Debian images with apache2 and the templates; a second apply changes nothing"
