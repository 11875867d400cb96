#!/bin/bash
# Host: make demo. Builds the Debian packages and boots the VM, where
# demo/guest.sh installs them and shows the product running live.
#
#   run.sh [--shell]    --shell: stay in a root shell in the guest afterwards
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}

shell=()
[ "${1:-}" = --shell ] && shell=(--shell)

echo "demo: building the packages"
make -C "$top/packaging/deb" O="$O" >"$O/demo-packages.log" 2>&1 ||
	{ tail -n 30 "$O/demo-packages.log"; echo "demo: package build failed" >&2; exit 1; }
version=$("$top/packaging/version.sh")
files=()
for deb in "$O/packages/coldroom-sensor_${version}_amd64.deb" \
	"$O/packages/coldroom-sensor-dkms_${version}_all.deb"; do
	files+=(--file "$deb:/usr/lib/vmtest/packages/$(basename "$deb")")
done
exec "$top/tests/vm/vm-run" --timeout 900 "${shell[@]}" "${files[@]}" "$here/guest.sh"
