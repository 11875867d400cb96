#!/bin/bash
# Host: builds coldroom.ko and coldroom_sim.ko against the guest kernel's
# headers, makes the test blobs, and runs each guest test of the driver in
# the VM (tests/vm/vm-run). Exit status: number of failed tests.
#
#   run.sh [TEST...]        TEST: basic lifecycle scale (default: all)
#
# KDIR (default: the headers of the guest's kernel) and O (build root) are
# honoured; BLOBS_DIR=DIR uses ready-made blobs instead of making them.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
out=$O/driver/vm
vm_run=$top/tests/vm/vm-run

. "$top/tests/vm/lib.sh"
vm_build_modules driver-vm || exit 125

rm -rf "$out"
mkdir -p "$out"
if [ -n "${BLOBS_DIR:-}" ]; then
	cp -a "$BLOBS_DIR" "$out/blobs"
else
	"$here/make-blobs.sh" "$out/blobs" || { echo "driver-vm: making test blobs failed" >&2; exit 125; }
fi

files=(
	--file "$top/driver/coldroom.ko:/usr/lib/vmtest/modules/coldroom.ko"
	--file "$top/driver/coldroom_sim.ko:/usr/lib/vmtest/modules/coldroom_sim.ko"
	--file "$here/guest-lib.sh:/usr/lib/vmtest/driver-lib.sh"
	--file "$out/blobs:/usr/lib/vmtest/blobs"
)

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(basic lifecycle scale)
failed=0
for t in "${tests[@]}"; do
	timeout=600
	[ "$t" = scale ] && timeout=900
	if "$vm_run" --timeout "$timeout" --log "$out/$t.log" "${files[@]}" "$here/$t.sh" >/dev/null; then
		echo "driver-vm: PASS $t ($(grep -c '^PASS' "$out/$t.log") checks)"
	else
		echo "driver-vm: FAIL $t (log: $out/$t.log)"
		grep -E '^(FAIL|RESULT|SLAB: grew)' "$out/$t.log" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
	grep '^MEMORY' "$out/$t.log" | sed 's/^/    /' || true
done
exit "$failed"
