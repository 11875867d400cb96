#!/bin/bash
# Host: proves the VM harness itself: a healthy boot passes, a failing
# script fails the host side with its exit status, a hung script is stopped
# by the timeout and fails too.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm_run=$here/../vm-run
failures=0

expect() {
	local want=$1 got=$2 what=$3
	if [ "$got" -eq "$want" ]; then
		echo "harness: PASS $what (exit status $got)"
	else
		echo "harness: FAIL $what: exit status $got, expected $want"
		failures=$((failures + 1))
	fi
}

"$vm_run" --timeout 300 "$here/boot-ok.sh"
expect 0 $? "healthy boot"
"$vm_run" --timeout 300 "$here/script-fails.sh"
expect 3 $? "failing script"
# The guest stops the script itself and reports 124 with its state...
"$vm_run" --timeout 120 --guest-timeout 10 "$here/script-hangs.sh"
expect 124 $? "hung script stopped by the guest"
# ...and when the guest cannot, the host kills QEMU at the timeout.
"$vm_run" --timeout 45 --guest-timeout 1000 "$here/script-hangs.sh"
expect 124 $? "hung guest killed by the host"
# A kernel panic ends QEMU without a result: a harness failure, never a pass.
"$vm_run" --timeout 120 "$here/kernel-panics.sh"
expect 125 $? "kernel panic"

exit $((failures > 0))
