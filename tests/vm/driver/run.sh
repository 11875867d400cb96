#!/bin/bash
# Host: builds coldroom.ko and coldroom_sim.ko against the guest kernel's
# headers, makes the test blobs, and runs each guest test of the driver in
# the VM (tests/vm/vm-run). Exit status: number of failed tests.
#
#   run.sh [TEST...]        TEST: basic lifecycle scale (default: all)
#
# VM_KERNEL=debug runs them on the debug kernel (tests/vm/lib.sh:
# vm_select_kernel). VM_KDIR (default: the headers of the guest's kernel)
# and O (build root) are honoured; BLOBS_DIR=DIR uses ready-made blobs
# instead of making them.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(basic lifecycle scale)

. "$top/tests/vm/lib.sh"
vm_build_modules driver-vm || exit 125
# One directory per kernel and set of tests: make check runs sets side by side.
out=$O/driver/vm/$VM_KERNEL_NAME-$(IFS=-; echo "${names[*]}")

rm -rf "$out"
mkdir -p "$out"
if [ -n "${BLOBS_DIR:-}" ]; then
	cp -a "$BLOBS_DIR" "$out/blobs"
else
	"$here/make-blobs.sh" "$out/blobs" || { echo "driver-vm: making test blobs failed" >&2; exit 125; }
fi

VM_FILES=(
	--file "$VM_MODULES/coldroom.ko:/usr/lib/vmtest/modules/coldroom.ko"
	--file "$VM_MODULES/coldroom_sim.ko:/usr/lib/vmtest/modules/coldroom_sim.ko"
	--file "$here/guest-lib.sh:/usr/lib/vmtest/driver-lib.sh"
	--file "$out/blobs:/usr/lib/vmtest/blobs"
)

tests=()
for t in "${names[@]}"; do
	# 10,000 units take a while under emulation.
	[ "$t" = scale ] && t=scale:900
	[ "$t" = lifecycle ] && t=lifecycle:900
	tests+=("$t")
done
vm_run_tests driver-vm "$here" "$out" 600 "${tests[@]}"
exit $?
