#!/bin/bash
# Host: builds the modules and the static test client crtest, makes the
# test blobs and runs each guest test of the bulk path in the VM
# (tests/vm/vm-run). Exit status: number of failed tests.
#
#   run.sh [TEST...]        TEST: bulk events removal stress (default: all)
#
# VM_KERNEL=debug runs them on the debug kernel (tests/vm/lib.sh:
# vm_select_kernel). VM_KDIR (default: the headers of the guest's kernel)
# and O (build root) are honoured.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(bulk events removal stress)

. "$top/tests/vm/lib.sh"
vm_build_modules bulk-vm || exit 125
# One directory per kernel and set of tests: make check runs sets side by side.
out=$O/bulk/vm/$VM_KERNEL_NAME-$(IFS=-; echo "${tests[*]}")

rm -rf "$out"
mkdir -p "$out"
# Static: the guest has no libc of the host's version to promise.
${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror -static -pthread \
	-I"$top/include/uapi" -I"$top/daemon/coldroomd" \
	-o "$out/crtest" "$here/crtest.c" ||
	{ echo "bulk-vm: building crtest failed" >&2; exit 125; }
"$top/tests/vm/driver/make-blobs.sh" "$out/blobs" >/dev/null ||
	{ echo "bulk-vm: making test blobs failed" >&2; exit 125; }

VM_FILES=(
	--file "$VM_MODULES/coldroom.ko:/usr/lib/vmtest/modules/coldroom.ko"
	--file "$VM_MODULES/coldroom_sim.ko:/usr/lib/vmtest/modules/coldroom_sim.ko"
	--file "$top/tests/vm/driver/guest-lib.sh:/usr/lib/vmtest/driver-lib.sh"
	--file "$here/bulk-lib.sh:/usr/lib/vmtest/bulk-lib.sh"
	--file "$out/crtest:/usr/lib/vmtest/crtest"
	--file "$out/blobs:/usr/lib/vmtest/blobs"
)

vm_run_tests bulk-vm "$here" "$out" 900 "${tests[@]}"
exit $?
