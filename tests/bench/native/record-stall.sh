#!/bin/bash
# What Recorder1's callers make the recorder's loop do on a large record:
# record_stall (beside this script) writes UNITS x DAYS at the default
# interval through the product's writer and times a Verify walk in 10 ms
# slices and one page of each read (GetHistoryPage, GetRecordsAfter), in
# wall-clock and CPU time, and says what kept the longest off the CPU.
# Usage: record-stall.sh [UNITS [DAYS]] (after make -C daemon).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
units=${1:-50} days=${2:-30}
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/record-stall.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cc -O2 -g -std=gnu11 -I"$top/daemon/record" -I"$top/daemon/shared" -I"$top/include/uapi" \
	-o "$tmp/record_stall" "$here/record_stall.c" \
	"$top/build/daemon/lib/libcoldroom-record.a" "$top/build/daemon/lib/libcoldroom-shared.a" \
	$(pkg-config --libs sqlite3 nettle)
"$tmp/record_stall" "$tmp/record.db" "$units" "$days"
ls -l "$tmp/record.db" | awk '{ printf "database: %.0f MiB\n", $5 / 1048576 }'
