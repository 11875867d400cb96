# shellcheck shell=bash
# The checks of the host-side shell tests: PASS/FAIL lines, a failure
# count, and a summary that is the exit status.

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
fails() { ! "$@"; }

# checks_done NAME: prints the summary; exits 0 only if nothing failed.
checks_done() {
	if [ "$failures" -eq 0 ]; then echo "$1: all passed"; else echo "$1: $failures failure(s)"; fi
	exit $((failures > 0))
}
