#!/bin/bash
# Host: builds what the daemon's VM test needs (the modules against the
# guest kernel's headers, coldroomd, coldroomctl, the model blobs) and runs
# each guest test in the VM (tests/vm/vm-run). Exit status: number of
# failed tests.
#
#   run.sh [TEST...]        TEST: serve sources (default: all)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(serve sources)
# One directory per set of tests: make check runs sets in two lanes at once.
out=$O/daemon/vm/$(IFS=-; echo "${tests[*]}")

. "$top/tests/vm/lib.sh"
vm_build_modules daemon-vm || exit 125
rm -rf "$out"
mkdir -p "$out"
vm_daemon_files daemon-vm "$out/files" || exit 125

VM_FILES=(
	--file "$VM_MODULES/coldroom.ko:/usr/lib/vmtest/modules/coldroom.ko"
	--file "$VM_MODULES/coldroom_sim.ko:/usr/lib/vmtest/modules/coldroom_sim.ko"
	--file "$top/tests/vm/driver/guest-lib.sh:/usr/lib/vmtest/driver-lib.sh"
	--file "$here/daemon-lib.sh:/usr/lib/vmtest/daemon-lib.sh"
	--file "$out/files:/usr/lib/vmtest/daemon"
)

vm_run_tests daemon-vm "$here" "$out" 600 "${tests[@]}"
exit $?
