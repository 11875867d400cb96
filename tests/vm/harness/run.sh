#!/bin/bash
# Host: proves the VM harness itself: a healthy boot passes, a failing
# script fails the host side with its exit status, a hung script is stopped
# by the timeout and fails too. The failures are wanted here: vm-run
# --expect judges each run against the status it must end with, so that a
# passing run of this suite prints PASS for each of them.
#
#   run.sh          vm-run (QEMU, the stock kernel), and the image cache
#   run.sh --uml    uml-run (the User-Mode Linux debug kernel)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm_run=$here/../vm-run
[ "${1:-}" != --uml ] || vm_run=$here/../uml-run
failures=0

# run WHAT STATUS VM-RUN-ARGS...: vm-run must end with STATUS.
run() {
	local what=$1 want=$2
	shift 2
	if "$vm_run" --expect "$want" "$@"; then
		echo "harness: PASS $what (exit status $want, as it must be)"
	else
		echo "harness: FAIL $what: not exit status $want"
		failures=$((failures + 1))
	fi
}

if [ "$vm_run" = "$here/../uml-run" ]; then
	run "healthy UML boot" 0 --timeout 300 "$here/uml-boot-ok.sh"
	run "failing script" 3 --timeout 300 "$here/script-fails.sh"
	run "hung script stopped by the guest" 124 --timeout 120 --guest-timeout 10 \
		"$here/script-hangs.sh"
	run "hung guest killed by the host" 124 --timeout 20 --guest-timeout 1000 \
		"$here/script-hangs.sh"
	run "kernel panic" 125 --timeout 300 "$here/kernel-panics.sh"
	exit $((failures > 0))
fi

# The image cache first: every run below takes its image from it.
if out=$("$here/../test-cache.sh" 2>&1); then
	echo "harness: PASS image cache ($(grep -c '^PASS' <<<"$out") checks)"
else
	grep -v '^PASS' <<<"$out"
	echo "harness: FAIL image cache"
	failures=$((failures + 1))
fi

run "healthy boot" 0 --timeout 300 "$here/boot-ok.sh"
run "failing script" 3 --timeout 300 "$here/script-fails.sh"
# The guest stops the script itself and reports 124 with its state...
run "hung script stopped by the guest" 124 --timeout 120 --guest-timeout 10 "$here/script-hangs.sh"
# ...and when the guest cannot, the host kills QEMU at the timeout.
run "hung guest killed by the host" 124 --timeout 20 --guest-timeout 1000 "$here/script-hangs.sh"
# A kernel panic ends QEMU without a result: a harness failure, never a pass.
run "kernel panic" 125 --timeout 300 "$here/kernel-panics.sh"

exit $((failures > 0))
