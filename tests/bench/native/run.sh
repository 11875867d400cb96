#!/bin/bash
# Host: coldroomd itself at 1 Hz, natively (make bench-native). For each
# unit count and configuration: a fake sysfs tree of N units (feeder tree),
# records in the /dev/coldroom format written to a FIFO at each unit's own
# phase of the second (feeder feed, read by coldroomd --records-from), a
# private dbus-daemon with the project's policy and one subscriber
# (dbus-latency). Measured over a window after a warm-up:
#   - coldroomd and dbus-daemon CPU (ns on CPU from /proc/PID/schedstat)
#     per reading fed in the window;
#   - coldroomd's peak RSS;
#   - sample-to-signal latency p50/p99 at the subscriber;
#   - the same, the largest count, while a client keeps GetManagedObjects
#     and GetReadings calls in flight (dbus-flood): readings must still
#     be signalled, in time;
#   - coldroomd's instructions per reading under callgrind (1,000 units
#     by default: counts that repeat, where CPU time on a shared machine
#     does not).
# --baseline BIN measures the flood with the coldroomd binary BIN as well,
# right before this tree's: before and after a change, in one run.
# Writes its section of BENCHMARKS.md (between the bench-native markers).
#
#   run.sh [--counts "100 1000 10000"] [--seconds S] [--output FILE]
#          [--no-callgrind] [--callgrind-units N] [--configs "C..."] [--perf]
#          [--baseline BIN]
# --perf also records where coldroomd and dbus-daemon spend their time
# (perf record -g, perf.data in each run's directory under build/).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
out=$O/bench-native
counts="100 1000 10000"
seconds=10
warmup=3
output=$top/BENCHMARKS.md
callgrind=yes
callgrind_units=1000
perf=no
baseline=
# The configurations: the default, then each documented alternative.
configs=("default" "UnitPropertiesChanged=no" "ReadingsBatchMs=1000")
cmdline="make bench-native${*:+ (tests/bench/native/run.sh $*)}"
while [ $# -gt 0 ]; do
	case "$1" in
	--counts) counts=${2:?}; shift 2 ;;
	--seconds) seconds=${2:?}; shift 2 ;;
	--output) output=${2:?}; shift 2 ;;
	--no-callgrind) callgrind=no; shift ;;
	--callgrind-units) callgrind_units=${2:?}; shift 2 ;;
	--configs) read -r -a configs <<<"${2:?}"; shift 2 ;;
	--perf) perf=yes; shift ;;
	--baseline) baseline=${2:?}; shift 2 ;;
	*) echo "usage: run.sh [--counts \"N...\"] [--seconds S] [--output FILE] [--no-callgrind] [--callgrind-units N] [--configs \"C...\"] [--perf] [--baseline BIN]" >&2
	   exit 2 ;;
	esac
done

die() { echo "bench-native: $*" >&2; exit 1; }
. "$here/lib.sh"
rm -rf "$out"
mkdir -p "$out"
build_tools "$out"

# The trees (20 files a unit) go to a scratch directory, gone after each run.
make_scratch bench-native

# measure N CONFIG [callgrind]: one run; prints one RESULT line.
measure() {
	local n=$1 config=$2 mode=${3:-}
	local dir=$out/run-$n-${config//[^A-Za-z0-9]/_}${mode:+-$mode}${coldroomd_bin:+-baseline}
	local bus_pid feeder_pid daemon_pid lat_pid addr cpu0 cpu1 bcpu0 bcpu1 readings
	local sys=$scratch/sys settings=() coldroomd_under=()
	mkdir -p "$dir"
	[ "$config" = default ] || settings=("$config")
	[ "$mode" = callgrind ] && coldroomd_under=(valgrind --tool=callgrind --instr-atstart=no
		--callgrind-out-file="$dir/callgrind.out")
	# The feeder runs past the window; the daemon reads it all along.
	start_fed_coldroomd "$dir" "$sys" "$n" $((seconds + warmup + 600)) ${settings[@]+"${settings[@]}"}
	sleep "$warmup"
	[ "$mode" = callgrind ] && callgrind_control -i on "$daemon_pid" >/dev/null 2>&1
	cpu0=$(cpu_ns "$daemon_pid") bcpu0=$(cpu_ns "$bus_pid")
	DBUS_SYSTEM_BUS_ADDRESS=$addr "$out/dbus-latency" "$seconds" >"$dir/latency" &
	lat_pid=$!
	local flood_pid= perf_pid=
	if [ "$perf" = yes ] && [ "$mode" != callgrind ]; then
		perf record -q -F 4999 -g -o "$dir/perf.data" -p "$daemon_pid,$bus_pid" \
			-- sleep "$seconds" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	if [ "$mode" = flood ]; then
		DBUS_SYSTEM_BUS_ADDRESS=$addr "$out/dbus-flood" "$seconds" >"$dir/flood" &
		flood_pid=$!
	fi
	wait "$lat_pid" $flood_pid $perf_pid
	cpu1=$(cpu_ns "$daemon_pid") bcpu1=$(cpu_ns "$bus_pid")
	local rss
	rss=$(peak_rss_kb "$daemon_pid")
	if [ "$mode" = callgrind ]; then
		callgrind_control -i off "$daemon_pid" >/dev/null 2>&1
		callgrind_control -d "$daemon_pid" >/dev/null 2>&1
	fi
	kill "$feeder_pid" "$daemon_pid" "$bus_pid" 2>/dev/null
	wait "$feeder_pid" "$daemon_pid" "$bus_pid" 2>/dev/null
	pids=()
	readings=$((n * seconds))
	# LATENCY <readings> <p50 us> <p99 us> <max us> <reading signals> <PropertiesChanged>
	read -r _ got p50 p99 max rsig psig <"$dir/latency" || die "no latency figures ($dir)"
	if [ "$mode" = callgrind ]; then
		local ir
		ir=$(cat "$dir"/callgrind.out* 2>/dev/null | awk '/^(summary|totals):/ {s += $2} END {print s + 0}')
		# Per reading signalled: a slowed daemon handles fewer than fed.
		echo "CALLGRIND $n $config $((ir / (got > 0 ? got : 1))) $got $readings"
	else
		local label=$config
		[ -n "${coldroomd_bin:-}" ] && label=baseline
		if [ "$mode" = flood ]; then
			local f_objects f_readings f_limited
			read -r _ _ _ f_objects f_readings f_limited <"$dir/flood" || die "no flood figures ($dir)"
			label="$label+flood($f_objects,$f_readings,$f_limited)"
		fi
		echo "RESULT $n $label $(( (cpu1 - cpu0) / readings )) $(( (bcpu1 - bcpu0) / readings )) $rss $p50 $p99 $got $readings $rsig $psig"
	fi
}

results=$out/results.txt
: >"$results"
for n in $counts; do
	for c in "${configs[@]}"; do
		echo "bench-native: $n units, $c" >&2
		measure "$n" "$c" | tee -a "$results" || exit 1
	done
done
# A local user calling the most expensive methods back to back must not
# hold the readings up: the largest count again, under that flood.
largest=$(printf '%s\n' $counts | sort -n | tail -n 1)
if [ -n "$baseline" ]; then
	echo "bench-native: $largest units, default, under a flood of calls, $baseline" >&2
	coldroomd_bin=$baseline
	measure "$largest" default flood | tee -a "$results" || exit 1
	coldroomd_bin=
fi
echo "bench-native: $largest units, default, under a flood of calls" >&2
measure "$largest" default flood | tee -a "$results" || exit 1
if [ "$callgrind" = yes ]; then
	for c in "${configs[@]}"; do
		echo "bench-native: $callgrind_units units, $c, under callgrind" >&2
		measure "$callgrind_units" "$c" callgrind | tee -a "$results" || exit 1
	done
fi

"$here/report.sh" "$results" "$cmdline" >"$out/section.md" || die "writing the report failed"
# Replace our section of the output file, or append it.
replace_section bench-native "$out/section.md" "$output"
echo "bench-native: wrote its section of $output"
cat "$out/section.md"
