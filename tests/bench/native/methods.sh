#!/bin/bash
# Host: how long one call of each coldroomd method open to every local
# user holds its loop, at 10,000 units fed at 1 Hz (as bench-native:
# the feeder's records through --records-from, a private bus with the
# project's policy). For each method, dbus-flood keeps four calls of it in
# flight for a while; coldroomd (-d) says each dispatch of its loop longer
# than 10 ms (service.c: its wall time, its CPU time, when it ended), and
# the longest of those in the method's span is its row; dbus-latency
# measures the readings meanwhile. The first row is no call at all: the
# readings' own dispatches. Writes its section of BENCHMARKS.md
# (between the bench-methods markers).
#
#   methods.sh [--units N] [--seconds S] [--output FILE]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
out=$O/bench-methods
units=10000
seconds=10
output=$top/BENCHMARKS.md
cmdline="tests/bench/native/methods.sh${*:+ $*} (part of make bench-native)"
methods=(none GetManagedObjects GetReadings GetUnit ListAlarms Get GetAll GetFrame Introspect
	IntrospectUnits)
while [ $# -gt 0 ]; do
	case "$1" in
	--units) units=${2:?}; shift 2 ;;
	--seconds) seconds=${2:?}; shift 2 ;;
	--output) output=${2:?}; shift 2 ;;
	*) echo "usage: methods.sh [--units N] [--seconds S] [--output FILE]" >&2; exit 2 ;;
	esac
done

die() { echo "bench-methods: $*" >&2; exit 1; }
. "$here/lib.sh"
rm -rf "$out"
mkdir -p "$out"
build_tools "$out"
make_scratch bench-methods
monotonic_us() { python3 -c 'import time; print(int(time.monotonic() * 1e6))'; }

coldroomd_args=(-d)
start_fed_coldroomd "$out" "$scratch/sys" "$units" $(( (seconds + 2) * ${#methods[@]} + 600 ))
sleep 3
results=$out/results.txt
: >"$results"
for m in "${methods[@]}"; do
	echo "bench-methods: $units units, $m" >&2
	t0=$(monotonic_us)
	DBUS_SYSTEM_BUS_ADDRESS=$addr "$out/dbus-latency" "$seconds" >"$out/latency.$m" &
	lat_pid=$!
	if [ "$m" = none ]; then
		echo "FLOOD 0 0 0 0 0" >"$out/flood.$m"
		sleep "$seconds"
	else
		DBUS_SYSTEM_BUS_ADDRESS=$addr "$out/dbus-flood" "$seconds" "$m" >"$out/flood.$m" ||
			die "dbus-flood $m failed"
	fi
	wait "$lat_pid"
	t1=$(monotonic_us)
	read -r _ answered errors _ _ limited <"$out/flood.$m" || die "no flood figures ($m)"
	read -r _ _ _ p99 _ _ _ <"$out/latency.$m" || die "no latency figures ($m)"
	# "loop: a dispatch took X us (Y us on the CPU), ended at Z us"
	# The longest wall time and, apart, the longest CPU time of those.
	longest=$(awk -v t0="$t0" -v t1="$t1" '/^coldroomd: loop: a dispatch took / {
			x = $6; y = substr($8, 2); z = $(NF - 1)
			if (z >= t0 && z <= t1) { n++; if (x > max) max = x; if (y > cpu) cpu = y }
		} END { printf "%d %d %d\n", max, cpu, n }' "$out/daemon.log")
	echo "METHOD $m $answered $((errors - limited)) $limited $longest $p99" | tee -a "$results"
	sleep 2
done
kill "$feeder_pid" "$daemon_pid" "$bus_pid" 2>/dev/null
wait "$feeder_pid" "$daemon_pid" "$bus_pid" 2>/dev/null
pids=()

{
	echo '<!-- bench-methods: begin -->'
	cat <<SECTION
## coldroomd: the loop held by each method open to every user, at $units units

$(produced_by "$cmdline") As bench-native, coldroomd reads the records of $units
units at 1 Hz; for each method, \`dbus-flood\` (\`tests/bench/native/dbus-flood.c\`)
keeps four calls of it in flight for $seconds s, each the most expensive way to call
it (GetUnit of a serial no unit has: a look at every unit; Get, GetAll and GetFrame
of one unit, which has no thermal frame here; Introspect of the manager and of
the units' parent, which lists every unit). coldroomd, run with \`-d\`, says each
dispatch of its loop that took more than 10 ms, with its CPU time
(\`daemon/shared/service.c\`); the row has, of those in the method's span, the
longest wall time, the longest CPU time and how many there were. Readings
meanwhile: sample to subscriber, as in bench-native. The first row is no call
at all. Shared machine: a dispatch's wall time includes preemption by other
jobs, its CPU time does not.

| method | calls answered / failed / refused (LimitsExceeded) | longest dispatch: wall time / CPU time | dispatches over 10 ms | readings p99 |
|---|---:|---:|---:|---:|
SECTION
	awk '$1 == "METHOD" {
		printf "| %s | %d / %d / %d | %s | %d | %.1f ms |\n", $2 == "none" ? "(no calls)" : $2, \
			$3, $4, $5, $8 ? sprintf("%.1f ms / %.1f ms", $6 / 1000, $7 / 1000) : "under 10 ms", \
			$8, $9 / 1000
	}' "$results"
	cat <<SECTION

Target: no method an unprivileged caller may call holds the loop more than 50 ms at
10,000 units.

| target | measured (longest CPU time of one dispatch, any method) | met |
|---|---:|---|
SECTION
	awk '$1 == "METHOD" && $2 != "none" { if ($7 > max) max = $7 }
		END { printf "| every dispatch under 50 ms of CPU | %.1f ms | %s |\n", max / 1000, max <= 50000 ? "yes" : "**no**" }' "$results"
	echo '<!-- bench-methods: end -->'
} >"$out/section.md"
replace_section bench-methods "$out/section.md" "$output"
echo "bench-methods: wrote its section of $output"
cat "$out/section.md"
