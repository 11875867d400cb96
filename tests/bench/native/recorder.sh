#!/bin/bash
# Host: coldroom-recorder natively at 10,000 units x 1 Hz in the default
# configuration (60 s intervals), behind the real coldroomd fed as in
# run.sh. Over a window of whole intervals after a warm-up:
#   - the recorder's CPU (ns on CPU from /proc/PID/schedstat) per reading
#     and as a share of one core;
#   - its peak RSS;
#   - the database: bytes per row with and without raw samples, from which
#     the disk a unit uses per year at the default retention follows;
#   - the record verifies intact afterwards.
# The database is on the scratch file system (tmpfs by default): the
# figures are CPU and size, not the disk's fsync time.
# Writes its section of BENCHMARKS.md (between the bench-recorder markers).
#
#   recorder.sh [--units N] [--intervals K] [--output FILE]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
out=$O/bench-recorder
units=10000
intervals=2
output=$top/BENCHMARKS.md
cmdline="tests/bench/native/recorder.sh${*:+ $*} (part of make bench-native)"
while [ $# -gt 0 ]; do
	case "$1" in
	--units) units=${2:?}; shift 2 ;;
	--intervals) intervals=${2:?}; shift 2 ;;
	--output) output=${2:?}; shift 2 ;;
	*) echo "usage: recorder.sh [--units N] [--intervals K] [--output FILE]" >&2; exit 2 ;;
	esac
done
interval=60

die() { echo "bench-recorder: $*" >&2; exit 1; }
. "$here/lib.sh"
command -v sqlite3 >/dev/null || die "sqlite3 is missing (make deps)"
rm -rf "$out"
mkdir -p "$out"
make -s -C "$top/daemon" O="$O" >/dev/null || die "building the daemons failed"
build_feeder "$out"

make_scratch bench-recorder

start_fed_coldroomd "$out" "$scratch/sys" "$units" $((interval * (intervals + 3) + 600))
db=$scratch/record.db
"$O/daemon/coldroom-recorder" --bus "$addr" --config "$out/coldroom.conf" --database "$db" \
	2>"$out/recorder.log" &
rec_pid=$!
pids+=("$rec_pid")

# Start at an interval's write (5 s after a boundary), measure whole intervals.
rows() { sqlite3 -batch -noheader "$db" "SELECT count(*) FROM record" 2>/dev/null || echo 0; }
first=$(( ($(date +%s) / interval + 2) * interval + 7 ))
echo "bench-recorder: $units units, warming up until $(date -d "@$first" +%T)" >&2
while [ "$(date +%s)" -lt "$first" ]; do sleep 0.5; done
rows0=$(rows) cpu0=$(cpu_ns "$rec_pid") t0=$(date +%s%N)
sleep $((interval * intervals))
cpu1=$(cpu_ns "$rec_pid") t1=$(date +%s%N) rows1=$(rows)
rss=$(peak_rss_kb "$rec_pid")
kill "$rec_pid"; wait "$rec_pid"; rc=$?
[ "$rc" -eq 0 ] || die "the recorder stopped with status $rc ($out/recorder.log)"
readings=$((units * interval * intervals))
cpu=$((cpu1 - cpu0)) wall=$((t1 - t0))
verify=$("$O/daemon/coldroomctl" --database "$db" record verify) || die "verify: $verify"
verify=${verify#"$db: "}

# Bytes per row: the file as written, and a copy without raw samples.
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
total_rows=$(rows)
size_raw=$(stat -c %s "$db")
cp "$db" "$scratch/agg.db"
sqlite3 "$scratch/agg.db" "UPDATE record SET samples = NULL; VACUUM" || die "vacuum failed"
size_agg=$(stat -c %s "$scratch/agg.db")
per_row=$((size_agg / total_rows)) raw_per_row=$(( (size_raw - size_agg) / total_rows ))
# A unit a year at the defaults: 2 probes x 525,600 rows, plus 48 h of raw.
per_unit_year=$(( 2 * 525600 * per_row + 2 * 2880 * raw_per_row ))
echo "RESULT units=$units rows=$((rows1 - rows0)) cpu_ns=$cpu wall_ns=$wall rss_kb=$rss" \
	"per_row=$per_row raw_per_row=$raw_per_row" >&2

section=$out/section.md
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
{
	echo '<!-- bench-recorder: begin -->'
	cat <<EOF
## coldroom-recorder natively, 10,000 units at 1 Hz

Produced by \`$cmdline\` on $(date -u +%Y-%m-%d), $(nproc) CPUs ($cpu_model).
The real coldroomd is fed as above; coldroom-recorder follows its Readings
signal on the private bus with the default settings (60 s intervals, raw
samples kept) and writes to a database on tmpfs, so the figures are CPU
and size, not the disk's fsync time. Measured over $intervals whole
intervals, starting at an interval's write.

| units | recorder CPU per reading | share of one core | peak RSS | rows written | bytes per row (aggregate) | raw samples per row | disk per unit per year (defaults) |
|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
	awk -v u="$units" -v c="$cpu" -v w="$wall" -v r="$readings" -v rss="$rss" -v rows=$((rows1 - rows0)) \
		-v pr="$per_row" -v rr="$raw_per_row" -v py="$per_unit_year" 'BEGIN {
		printf "| %d | %d ns | %.2f %% | %.1f MiB | %d | %d B | %d B | %.1f MiB |\n",
			u, c / r, 100 * c / w, rss / 1024, rows, pr, rr, py / 1048576 }'
	cat <<EOF

Disk per unit per year: two probes at one row a minute (525,600 rows each)
at the aggregate size, plus 48 hours of raw samples. The audit trail adds
a row per event. \`coldroomctl record verify\` after the run: $verify
EOF
	echo '<!-- bench-recorder: end -->'
} >"$section"
replace_section bench-recorder "$section" "$output"
echo "bench-recorder: wrote its section of $output"
cat "$section"
