#!/bin/bash
# Host: builds the Debian packages (packaging/deb, linted) and runs the
# product's end-to-end test (product.sh) in the VM, where they are installed
# with apt exactly as a user installs them.
#
#   run.sh            build the packages, then test them
#   run.sh --no-build test the packages already in $O/packages
#
# Exit status: the test's (0 passed), 125 when packages or the VM failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
out=$O/tests/product
pkgs=$O/packages

build=1
[ "${1:-}" = --no-build ] && build=0
mkdir -p "$out"

if [ "$build" -eq 1 ]; then
	echo "product-vm: building the Debian packages"
	make -C "$top/packaging/deb" O="$O" >"$out/build.log" 2>&1 ||
		{ tail -n 40 "$out/build.log"; echo "product-vm: package build failed (log: $out/build.log)" >&2; exit 125; }
fi
version=$("$top/packaging/version.sh") || exit 125
debs=("$pkgs/coldroom-sensor_${version}_amd64.deb" "$pkgs/coldroom-sensor-dkms_${version}_all.deb")
for deb in "${debs[@]}"; do
	[ -f "$deb" ] || { echo "product-vm: $deb is missing" >&2; exit 125; }
done

files=()
for deb in "${debs[@]}"; do
	files+=(--file "$deb:/usr/lib/vmtest/packages/$(basename "$deb")")
done
# Boot, apt, a DKMS build of both modules under emulation, the test, purge.
"$top/tests/vm/vm-run" --timeout 1200 --log "$out/product.log" "${files[@]}" \
	"$here/product.sh" >/dev/null
rc=$?
grep -E '^(PASS|FAIL|RESULT|kept)' "$out/product.log" | sed 's/^/    /'
if [ "$rc" -eq 0 ]; then
	echo "product-vm: PASS ($(grep -c '^PASS' "$out/product.log") checks)"
else
	echo "product-vm: FAIL (exit status $rc, log: $out/product.log)"
fi
exit "$rc"
