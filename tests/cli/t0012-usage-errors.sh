#!/bin/sh
# Usage errors exit 2 with a message on stderr, and lint nothing.
. "$(dirname "$0")/../lib/test-lib.sh"

echo 'image a from scratch() {}' >ok.img

# usage_error WHAT ARGS...: exit 2, a message on stderr, nothing on stdout.
usage_error()
{
	what=$1
	shift
	run_kiln "$@"
	[ "$rc" -eq 2 ] || fail "$what: expected exit status 2, got $rc"
	[ -s err ] || fail "$what: no message on stderr"
	expect_no_match err 'error\[E' "$what: a usage error printed a diagnostic"
	[ ! -s out ] || fail "$what: wrote to stdout"
}

usage_error "unknown option" lint --no-such-option ok.img
expect_match err 'no-such-option' "the message does not name the unknown option"
usage_error "unknown short option" lint -Q ok.img
usage_error "unknown command" frobnicate ok.img
expect_match err 'frobnicate' "the message does not name the unknown command"
usage_error "no files" lint
usage_error "no files (validate)" validate
usage_error "bad --diagnostics" lint --diagnostics=xml ok.img
expect_match err 'xml' "the message does not name the bad value"
usage_error "bad --dump" lint --dump=nothing ok.img
usage_error "bad --color" lint --color=sometimes ok.img
usage_error "missing option value" lint ok.img --max-errors
usage_error "unknown global option" --no-such-global-option

# A usage error wins over files that do not exist or do not parse.
usage_error "unknown option with a missing file" lint --bogus missing.img
