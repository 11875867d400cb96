#!/bin/bash
# Host: the benchmark of the ways to read readings (make bench). Builds the
# modules and coldroom-bench, boots the guest once, measures 10, 100, 1,000
# and 10,000 units and writes the table to BENCHMARKS.md at the top of the
# tree (with the command that produced it).
#
#   run.sh [--counts "10 100"] [--output FILE]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
O=${O:-$top/build}
out=$O/bench
counts="10 100 1000 10000"
output=$top/BENCHMARKS.md
cmdline="tests/bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
	case "$1" in
	--counts) counts=${2:?}; shift 2 ;;
	--output) output=${2:?}; shift 2 ;;
	*) echo "usage: run.sh [--counts \"N...\"] [--output FILE]" >&2; exit 2 ;;
	esac
done

image=$("$top/tests/vm/mkrootfs.sh") || { echo "bench: no guest image" >&2; exit 125; }
kver=$(cat "$image/kernel-version")
KDIR=${KDIR:-/lib/modules/$kver/build}
make -C "$top/driver" KDIR="$KDIR" O="$O" modules >/dev/null ||
	{ echo "bench: module build failed" >&2; exit 125; }
rm -rf "$out"
mkdir -p "$out"
${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror -static \
	-I"$top/include/uapi" -I"$here" -o "$out/coldroom-bench" \
	"$here/coldroom-bench.c" || { echo "bench: building coldroom-bench failed" >&2; exit 125; }
"$top/tests/vm/driver/make-blobs.sh" "$out/blobs" >/dev/null ||
	{ echo "bench: making blobs failed" >&2; exit 125; }
echo "COUNTS=\"$counts\"" >"$out/bench.conf"

echo "bench: measuring $counts units in the VM (log: $out/bench.log)"
if ! "$top/tests/vm/vm-run" --timeout 3000 --log "$out/bench.log" \
	--file "$top/driver/coldroom.ko:/usr/lib/vmtest/modules/coldroom.ko" \
	--file "$top/driver/coldroom_sim.ko:/usr/lib/vmtest/modules/coldroom_sim.ko" \
	--file "$top/tests/vm/driver/guest-lib.sh:/usr/lib/vmtest/driver-lib.sh" \
	--file "$out/coldroom-bench:/usr/lib/vmtest/coldroom-bench" \
	--file "$out/bench.conf:/usr/lib/vmtest/bench.conf" \
	--file "$out/blobs:/usr/lib/vmtest/blobs" \
	"$here/bench-guest.sh" >/dev/null; then
	echo "bench: the guest run failed (log: $out/bench.log)" >&2
	exit 1
fi

grep '^RESULT [0-9]' "$out/bench.log" >"$out/results.txt"
grep '^BENCHINFO' "$out/bench.log" >"$out/info.txt" || true
"$here/report.sh" "$out/results.txt" "$out/info.txt" "$cmdline" \
	"$(qemu-system-x86_64 --version | head -n 1)" >"$output" ||
	{ echo "bench: writing the report failed" >&2; exit 1; }
echo "bench: wrote $output"
cat "$output"
