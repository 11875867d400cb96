#!/bin/bash
# Host: the benchmark of the ways to read readings (make bench). Builds the
# modules, coldroomd, coldroom-bench and dbus-latency, boots the guest once,
# measures 10, 100, 1,000 and 10,000 units, and coldroomd at the largest
# count, and writes the tables to BENCHMARKS.md at the top of the tree
# (with the command that produced them).
#
#   run.sh [--counts "10 100"] [--daemon-seconds S] [--output FILE]
#   run.sh --scrape-only [--counts N] [--output FILE]
#       only the Prometheus scrape comparison (coldroom-metrics and
#       node_exporter's hwmon collector) at N units (10,000), replacing
#       its section of the output alone
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
O=${O:-$top/build}
out=$O/bench
counts="10 100 1000 10000"
daemon_seconds=60
scrape_only=0
output=$top/BENCHMARKS.md
cmdline="tests/bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
	case "$1" in
	--counts) counts=${2:?}; shift 2 ;;
	--daemon-seconds) daemon_seconds=${2:?}; shift 2 ;;
	--output) output=${2:?}; shift 2 ;;
	--scrape-only) scrape_only=1; counts=10000; shift ;;
	*) echo "usage: run.sh [--scrape-only] [--counts \"N...\"] [--daemon-seconds S] [--output FILE]" >&2; exit 2 ;;
	esac
done

. "$top/tests/vm/lib.sh"
vm_build_modules bench || exit 125
rm -rf "$out"
mkdir -p "$out"
${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror -static \
	-I"$top/include/uapi" -I"$top/daemon/coldroomd" -o "$out/coldroom-bench" \
	"$here/coldroom-bench.c" || { echo "bench: building coldroom-bench failed" >&2; exit 125; }
# Against the guest's libsystemd, the same Debian release as this one.
${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror -I"$top/daemon/shared" -o "$out/dbus-latency" \
	"$here/dbus-latency.c" -lsystemd || { echo "bench: building dbus-latency failed" >&2; exit 125; }
vm_daemon_files bench "$out/daemon" || exit 125
"$top/tests/vm/driver/make-blobs.sh" "$out/blobs" >/dev/null ||
	{ echo "bench: making blobs failed" >&2; exit 125; }
[ -x /usr/bin/prometheus-node-exporter ] ||
	{ echo "bench: prometheus-node-exporter is missing (make deps)" >&2; exit 125; }
largest=$(printf '%s\n' $counts | sort -n | tail -n 1)
printf 'COUNTS="%s"\nDAEMON_UNITS=%s\nDAEMON_SECONDS=%s\nSCRAPE_ONLY=%s\n' "$counts" "$largest" \
	"$daemon_seconds" "$scrape_only" >"$out/bench.conf"

echo "bench: measuring $counts units in the VM (log: $out/bench.log)"
if ! "$top/tests/vm/vm-run" --timeout 3000 --log "$out/bench.log" \
	--file "$VM_MODULES/coldroom.ko:/usr/lib/vmtest/modules/coldroom.ko" \
	--file "$VM_MODULES/coldroom_sim.ko:/usr/lib/vmtest/modules/coldroom_sim.ko" \
	--file "$top/tests/vm/driver/guest-lib.sh:/usr/lib/vmtest/driver-lib.sh" \
	--file "$top/tests/vm/daemon/daemon-lib.sh:/usr/lib/vmtest/daemon-lib.sh" \
	--file "$out/daemon:/usr/lib/vmtest/daemon" \
	--file "$out/dbus-latency:/usr/lib/vmtest/dbus-latency" \
	--file "$out/coldroom-bench:/usr/lib/vmtest/coldroom-bench" \
	--file "/usr/bin/prometheus-node-exporter:/usr/lib/vmtest/prometheus-node-exporter" \
	--file "$out/bench.conf:/usr/lib/vmtest/bench.conf" \
	--file "$out/blobs:/usr/lib/vmtest/blobs" \
	"$here/bench-guest.sh" >/dev/null; then
	echo "bench: the guest run failed (log: $out/bench.log)" >&2
	exit 1
fi

grep -E '^(RESULT [0-9]|DAEMON |LATENCY |SCRAPE )' "$out/bench.log" >"$out/results.txt"
grep '^BENCHINFO' "$out/bench.log" >"$out/info.txt" || true
if [ "$scrape_only" -eq 1 ]; then
	. "$here/native/lib.sh"
	"$here/report-scrape.sh" "$out/results.txt" >"$out/scrape.md" &&
		[ -s "$out/scrape.md" ] || { echo "bench: no scrape figures (log: $out/bench.log)" >&2; exit 1; }
	replace_section bench-scrape "$out/scrape.md" "$output"
	echo "bench: wrote the scrape section of $output"
	cat "$out/scrape.md"
	exit 0
fi
# The native benchmarks' sections (make bench-native) stay as they are;
# this run writes the rest, its scrape section included.
native=$(awk '/^<!-- bench-[a-z]+: begin -->$/ && $0 != "<!-- bench-scrape: begin -->" {keep = 1}
	keep {print}
	keep && /^<!-- bench-[a-z]+: end -->$/ {keep = 0; print ""}' "$output" 2>/dev/null)
{
	"$here/report.sh" "$out/results.txt" "$out/info.txt" "$cmdline" \
		"$(qemu-system-x86_64 --version | head -n 1)" &&
	if [ -n "$native" ]; then printf '\n%s\n' "$native"; fi
} >"$output.new" && mv "$output.new" "$output" ||
	{ echo "bench: writing the report failed" >&2; exit 1; }
echo "bench: wrote $output"
cat "$output"
