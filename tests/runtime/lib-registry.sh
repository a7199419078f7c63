# tests/runtime/lib-registry.sh: a real registry (Debian's docker-registry, distribution
# 2.8) for the registry tests t7NNN-*.sh, sourced after tests/lib/test-lib.sh (and
# lib-apply.sh, whose cleanup it chains). Each registry listens on 127.0.0.1 and a free
# port, with its config, storage and log in its own directory under $TMP; nothing of the
# machine's /etc/docker or /var/lib/docker-registry is read or written.
#
#   registry_start MODE     start a registry; MODE is
#                             plain     plain HTTP, anonymous
#                             tls       HTTPS with a certificate from a CA made here
#                                       ($REG_CA: give it to kiln as ca_file)
#                             htpasswd  plain HTTP, basic auth ($REG_USER / $REG_PASSWORD)
#                             token     plain HTTP, bearer tokens from a small token service
#                                       (python3, tokens signed with openssl) that checks
#                                       $REG_USER / $REG_PASSWORD
#                           sets REG (127.0.0.1:PORT), REG_PORT, REG_PID, REG_DIR
#                           (storage in $REG_DIR/storage)
#   registry_stop           stop the last registry started (and its token service)
#   registry_kill           kill -KILL it (a registry that dies mid-push)
#   registry_restart        start it again on the same port and storage
#   registry_blob_path DIGEST   the blob's data file in the storage (to tamper with it)
#   free_port               a TCP port free on 127.0.0.1
#   _reg_watch PID          kill PID (a server the test started) once the test is gone

command -v docker-registry >/dev/null 2>&1 ||
	skip "needs docker-registry (apt-get install docker-registry)"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
command -v openssl >/dev/null 2>&1 || skip "needs openssl"

REG_USER=kiln
REG_PASSWORD=s3cret-$$-registry-pw
REG=
REG_PID=
REG_TOKEN_PID=
_REG_ALL_PIDS=

free_port()
{
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Wait until something answers on 127.0.0.1:$1 (at most 10 s).
_reg_wait_port()
{
	_i=0
	while ! python3 -c 'import socket, sys
s = socket.socket(); s.settimeout(0.5); s.connect(("127.0.0.1", int(sys.argv[1])))' "$1" \
		2>/dev/null; do
		_i=$((_i + 1))
		[ "$_i" -lt 100 ] || fail "nothing listens on 127.0.0.1:$1 (see $REG_DIR/log)"
		sleep 0.1
	done
}

# A watchdog: pid $1 is killed once this test's shell is gone, however it ended (a
# signal it does not trap, SIGKILL from a timeout), so no server outlives its test.
_reg_watch()
{
	(
		trap - EXIT INT TERM
		while kill -0 "$_REG_TEST_PID" 2>/dev/null && kill -0 "$1" 2>/dev/null; do
			sleep 1
		done
		kill -KILL "$1" 2>/dev/null
	) >/dev/null 2>&1 </dev/null &
}
_REG_TEST_PID=$$

_reg_run()
{
	docker-registry serve "$REG_DIR/config.yml" >>"$REG_DIR/log" 2>&1 &
	REG_PID=$!
	_REG_ALL_PIDS="$_REG_ALL_PIDS $REG_PID"
	_reg_watch "$REG_PID"
	_reg_wait_port "$REG_PORT"
}

registry_start()
{
	_mode=$1
	REG_PORT=$(free_port)
	REG=127.0.0.1:$REG_PORT
	REG_DIR=$TMP/registry-$REG_PORT
	mkdir -p "$REG_DIR/storage"
	_tls=
	_auth=
	case $_mode in
	plain) ;;
	tls)
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kiln test CA" \
			-keyout "$REG_DIR/ca.key" -out "$REG_DIR/ca.pem" 2>/dev/null ||
			fail "openssl: cannot make a CA"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
			-keyout "$REG_DIR/server.key" -out "$REG_DIR/server.csr" 2>/dev/null ||
			fail "openssl: cannot make a request"
		printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$REG_DIR/ext"
		openssl x509 -req -in "$REG_DIR/server.csr" -CA "$REG_DIR/ca.pem" \
			-CAkey "$REG_DIR/ca.key" -CAcreateserial -days 2 -extfile "$REG_DIR/ext" \
			-out "$REG_DIR/server.pem" 2>/dev/null || fail "openssl: cannot sign"
		REG_CA=$REG_DIR/ca.pem
		_tls="  tls:
    certificate: $REG_DIR/server.pem
    key: $REG_DIR/server.key"
		;;
	htpasswd)
		command -v htpasswd >/dev/null 2>&1 || skip "needs htpasswd (apache2-utils)"
		htpasswd -Bbn "$REG_USER" "$REG_PASSWORD" >"$REG_DIR/htpasswd" 2>/dev/null ||
			fail "htpasswd failed"
		_auth="auth:
  htpasswd:
    realm: kiln-test
    path: $REG_DIR/htpasswd"
		;;
	token)
		_tport=$(free_port)
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kiln test token" \
			-keyout "$REG_DIR/token.key" -out "$REG_DIR/token.pem" 2>/dev/null ||
			fail "openssl: cannot make the token key"
		python3 "$TOP/tests/runtime/registry-token.py" "$_tport" "$REG_DIR/token.key" \
			"$REG_DIR/token.pem" "$REG_USER" "$REG_PASSWORD" >"$REG_DIR/token.log" 2>&1 &
		REG_TOKEN_PID=$!
		_REG_ALL_PIDS="$_REG_ALL_PIDS $REG_TOKEN_PID"
		_reg_watch "$REG_TOKEN_PID"
		_reg_wait_port "$_tport"
		_auth="auth:
  token:
    realm: http://127.0.0.1:$_tport/token
    service: kiln-test-registry
    issuer: kiln-test-issuer
    rootcertbundle: $REG_DIR/token.pem"
		;;
	*) fail "registry_start: unknown mode $_mode" ;;
	esac
	cat >"$REG_DIR/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $REG_DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REG_PORT
  secret: kiln-test-$$
$_tls
$_auth
EOF
	_reg_run
}

registry_stop()
{
	for _p in $REG_PID $REG_TOKEN_PID; do
		kill "$_p" 2>/dev/null || true
		wait "$_p" 2>/dev/null || true
	done
	REG_PID=
	REG_TOKEN_PID=
}

registry_kill()
{
	kill -KILL "$REG_PID" 2>/dev/null || true
	wait "$REG_PID" 2>/dev/null || true
	REG_PID=
}

registry_restart()
{
	_reg_run
}

registry_blob_path()
{
	_h=${1#sha256:}
	echo "$REG_DIR/storage/docker/registry/v2/blobs/sha256/$(printf %s "$_h" | cut -c1-2)/$_h/data"
}

# Stop every registry and token service this test started, then the caller's cleanup.
_registry_cleanup()
{
	for _p in $_REG_ALL_PIDS; do
		kill -KILL "$_p" 2>/dev/null || true
		wait "$_p" 2>/dev/null || true
	done
}
if command -v _apply_cleanup >/dev/null 2>&1; then
	trap '_registry_cleanup; _apply_cleanup' EXIT
else
	trap '_registry_cleanup; cd /; rm -rf "$TMP"' EXIT
fi
