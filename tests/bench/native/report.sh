#!/bin/bash
# Writes the bench-native section of BENCHMARKS.md (to stdout) from the
# RESULT and CALLGRIND lines of run.sh.
#
#   report.sh RESULTS COMMAND
set -euo pipefail
results=$1 cmdline=$2
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
# The default batch window (config.h), which the latency target adds to.
batch_ms=100

echo '<!-- bench-native: begin -->'
cat <<EOF
## coldroomd natively, every unit sampled at 1 Hz

Produced by \`$cmdline\` on $(date -u +%Y-%m-%d), $(nproc) CPUs ($cpu). The
real coldroomd binary reads a fake sysfs tree and records in the
/dev/coldroom format from a FIFO (\`--records-from\`), written at each
unit's own phase of the second; a private dbus-daemon with the project's
policy carries its signals to one subscriber. CPU is time on a CPU
(/proc/PID/schedstat) over the measuring window, divided by the readings
fed in it; latency is from the sample's timestamp to the subscriber
handling the signal that carries it. "Under a flood of calls": a client
keeps four GetManagedObjects and GetReadings calls in flight all along
(what any local user may do; \`tests/bench/native/dbus-flood.c\`), and
the row says how many of each were answered and how many coldroomd
refused (LimitsExceeded: one pending GetManagedObjects a sender); the CPU
figures then include answering it. "baseline": the same flood against
another coldroomd binary (\`--baseline\`), measured in the same run.
Shared machine: compare figures of one run with each other; the
instruction counts repeat.

| units | configuration | coldroomd CPU per reading | dbus-daemon CPU per reading | coldroomd peak RSS | latency p50 / p99 | readings signalled / fed | batched reading signals / PropertiesChanged signals |
|---:|---|---:|---:|---:|---:|---:|---:|
EOF
awk '$1 == "RESULT" {
	config = $3
	if (match(config, /\+flood\([0-9]+,[0-9]+,[0-9]+\)$/)) {
		split(substr(config, RSTART + 7, RLENGTH - 8), c, ",")
		config = substr(config, 1, RSTART - 1) ", under a flood of calls (answered: " \
			c[1] " GetManagedObjects, " c[2] " GetReadings; " c[3] " refused)"
	}
	printf "| %d | %s | %d ns | %d ns | %.1f MiB | %.1f / %.1f ms | %d / %d | %d / %d |\n",
		$2, config, $4, $5, $6 / 1024, $7 / 1000, $8 / 1000, $9, $10, $11, $12
}' "$results"

if grep -q '^CALLGRIND' "$results"; then
	cat <<EOF

Instructions coldroomd executes per reading signalled (callgrind over the
same window; a daemon slowed down by callgrind that handles fewer readings
than were fed shows it in the last column):

| units | configuration | instructions per reading | readings signalled / fed |
|---:|---|---:|---:|
EOF
	awk '$1 == "CALLGRIND" {printf "| %d | %s | %d | %d / %d |\n", $2, $3, $4, $5, $6}' "$results"
fi

cat <<EOF

Targets at 10,000 units in the default configuration:

| target | measured | met |
|---|---:|---|
EOF
awk -v batch="$batch_ms" '$1 == "RESULT" && $2 == 10000 && $3 == "default" {
	found = 1
	printf "| coldroomd at most 100 ns of CPU per reading | %d ns | %s |\n", $4, $4 <= 100 ? "yes" : "**no**"
	printf "| dbus-daemon at most 200 ns per reading | %d ns | %s |\n", $5, $5 <= 200 ? "yes" : "**no**"
	printf "| coldroomd RSS under 32 MB | %.1f MiB | %s |\n", $6 / 1024, $6 < 32768 ? "yes" : "**no**"
	printf "| p99 latency within the batch window + 20 ms (%d ms) | %.1f ms | %s |\n", batch + 20, $8 / 1000, \
		($8 <= (batch + 20) * 1000 && $9 >= 0.99 * $10) ? "yes" : "**no**"
}
$1 == "RESULT" && $2 == 10000 && $3 ~ /^default\+flood/ {
	printf "| p99 latency under the flood of calls within the batch window + 20 ms (%d ms) | %.1f ms | %s |\n", \
		batch + 20, $8 / 1000, ($8 <= (batch + 20) * 1000 && $9 >= 0.99 * $10) ? "yes" : "**no**"
}
END {if (!found) print "| (10,000 units not measured in this run) | | |"}' "$results"
echo '<!-- bench-native: end -->'
