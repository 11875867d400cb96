#!/bin/bash
# Host: proves the debug kernel's checkers live. Builds the negative-control
# modules (controls/, test-only) against the debug kernel's tree and runs
# detectors.sh on it in the VM: lockdep, KASAN, UBSAN, DEBUG_ATOMIC_SLEEP
# and kmemleak must each report its control, and the suites' own check must
# catch the report. The debug kernel is built first if the cache has none
# (tests/vm/mkdebugkernel.sh). VM_KERNEL=uml runs them on the User-Mode
# Linux debug kernel instead (tests/vm/mkumlkernel.sh, tests/vm/uml-run).
# Exit status: 0 when all passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
VM_KERNEL=${VM_KERNEL:-debug}
out=$O/debug/vm/$VM_KERNEL

. "$top/tests/vm/lib.sh"
vm_select_kernel debug-vm || exit 125

rm -rf "$out"
mkdir -p "$out/controls"
cp "$here/controls/"* "$out/controls/"
kernel_make -j"$(nproc)" -C "$VM_KDIR" M="$out/controls" "${VM_KMAKE[@]}" modules >"$out/controls.log" 2>&1 ||
	{ tail -n 30 "$out/controls.log" >&2; echo "debug-vm: building the controls failed" >&2; exit 125; }

VM_FILES=(
	--file "$out/controls:/usr/lib/vmtest/controls"
	--file "$top/tests/vm/driver/guest-lib.sh:/usr/lib/vmtest/driver-lib.sh"
)
vm_run_tests debug-vm "$here" "$out" 900 detectors
exit $?
