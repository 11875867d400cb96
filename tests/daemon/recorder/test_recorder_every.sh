#!/bin/bash
# Every sample in the record (RECORD.md, "Every sample"): coldroomd reads
# records in the device's format from a FIFO (--records-from) for 1,000
# units, a hundred of them taking three samples at a time (more than one
# a batch window), while clients flood it with GetManagedObjects and GetReadings;
# the recorder, on a private bus with the stock policy, counts each sample
# in the interval it was taken in, or counts it lost with why (so per unit
# and interval n is what the unit took there unless the row says some were
# lost, and the totals are equal), and a one-sample excursion of one unit
# is in its interval's max. Then samples lost on
# purpose, a sample_seq that jumps and a ring overflow of the kernel (its
# overflow record, the latest sample read back from sysfs): each interval
# accounts for them exactly with lost and why, and `coldroomctl history`,
# GetHistoryPage2, SamplesLost and `record verify` show it.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, RECORDER.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-recorder-every

interval=10
feed=$here/feed_records.py
rec_call() { busctl --address="$addr" call org.coldroom.Recorder1 /org/coldroom/Recorder1 \
	org.coldroom.Recorder1 "$@"; }
rec_prop() { busctl --address="$addr" get-property org.coldroom.Recorder1 \
	/org/coldroom/Recorder1 org.coldroom.Recorder1 "$1" 2>/dev/null; }
units_recorded() { rec_prop Status | grep -q "recording $1 units"; }
q() { sqlite3 -batch -noheader -cmd '.timeout 10000' "$db" "$1"; }

# run NAME UNITS: coldroomd and the recorder on a tree of UNITS units.
run() {
	sys=$tmp/$1/sys db=$tmp/$1/record.db fifo=$tmp/$1/records
	mkdir -p "$sys/class/coldroom" "$tmp/$1/model"
	python3 "$feed" tree "$sys" "$2" || return 1
	mkfifo "$fifo" || return 1
	cat >"$tmp/$1/coldroom.conf" <<CONF
ModelFirmwareDir=$tmp/$1/model
RecordIntervalSec=$interval
CONF
	"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --records-from "$fifo" \
		--config "$tmp/$1/coldroom.conf" 2>>"$tmp/$1/daemon.log" &
	daemon_pid=$!
	wait_for 60 bus_has_name org.coldroom.Sensors1 || return 1
	"$RECORDER" --bus "$addr" --config "$tmp/$1/coldroom.conf" --database "$db" \
		2>>"$tmp/$1/recorder.log" &
	recorder_pid=$!
	# Every unit known to the recorder before the first sample.
	wait_for 60 units_recorded "$2"
}
stop() {
	kill "$recorder_pid" "$daemon_pid"
	wait "$recorder_pid" "$daemon_pid"
	recorder_pid= daemon_pid=
}
# written TAKEN UNITS: the recorder wrote the last interval the feeder fed.
written() {
	local last
	last=$(awk '{ print $2 }' "$1" | sort -n | tail -1)
	wait_for 60 rows_at "$last" "$2"
}
# rows_at START N: at least N probe-1 rows of the interval that starts at START.
rows_at() {
	local n
	n=$(q "SELECT count(*) FROM record WHERE probe = 1 AND
		start_us - start_us % ${interval}000000 = $1") && [ "$n" -ge "$2" ]
}

# compare TAKEN: per unit and interval the feeder fed, the record's probe-1
# rows. A sample is counted in the interval it was taken in (n never more
# than taken, the max the fed max when nothing is missing), and what is
# missing is counted lost with a reason there or later, never earlier (a
# jump counts where the next sample is, a late sample in the interval open
# when it came: RECORD.md), so that per unit the totals are equal and each
# interval without loss is exact. A line for each row that breaks it, then
# "rows N lost L bad B".
compare() {
	python3 - "$db" "$1" "$interval" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
length = int(sys.argv[3]) * 1000000
rows, fed = {}, {}
for s, st, n, lost, why, mx in db.execute(
        "SELECT serial, start_us, n, lost, lost_why, max FROM record WHERE probe = 1"):
    rows[(s, st - st % length)] = (n, lost, why, mx)
for line in open(sys.argv[2]):
    serial, start, taken, mx = line.split()
    fed[(serial, int(start))] = (int(taken), int(mx))
bad = checked = lost_all = 0
for serial in sorted({s for s, _ in fed}):
    taken_sum = counted_sum = 0
    for start in sorted({st for s, st in list(rows) + list(fed) if s == serial}):
        taken, mx = fed.get((serial, start), (0, None))
        if (serial, start) not in rows:
            print("no row of %s at %d (%d taken)" % (serial, start, taken))
            bad += 1
            continue
        n, lost, why, rmax = rows[(serial, start)]
        checked += taken > 0
        lost_all += lost
        taken_sum += taken
        counted_sum += n + lost
        if n > taken or counted_sum > taken_sum or (lost and not why) or \
                (taken and n == taken and not lost and rmax != mx):
            print("%s at %d: %d taken; the record: n %d, lost %d (why %d), max %s (fed %s)"
                  % (serial, start, taken, n, lost, why, rmax, mx))
            bad += 1
    if counted_sum != taken_sum:
        print("%s: %d taken in all, the record counts %d" % (serial, taken_sum, counted_sum))
        bad += 1
print("rows %d lost %d bad %d" % (checked, lost_all, bad))
PY
}
summary() { tail -1 <<<"$1"; }
details() { [ "$(wc -l <<<"$1")" -le 1 ] || head -20 <<<"$1" >&2; }

start_private_bus "$tmp" || { echo "test_recorder_every: no dbus-daemon"; exit 1; }

# --- 1,000 units, a hundred faster than the window, under a flood of calls.
run big 1000 || { fail "coldroomd and the recorder did not start on 1,000 units"; exit 1; }
flood() {
	while :; do
		busctl --address="$addr" call org.coldroom.Sensors1 /org/coldroom/Sensors1 \
			org.freedesktop.DBus.ObjectManager GetManagedObjects >/dev/null 2>&1
		busctl --address="$addr" call org.coldroom.Sensors1 /org/coldroom/Sensors1 \
			org.coldroom.Sensors1.Manager GetReadings >/dev/null 2>&1
	done
}
flood_pids=
for i in 1 2 3; do flood & flood_pids="$flood_pids $!"; done
extra_pids="$extra_pids $flood_pids"
fed=$(python3 "$feed" feed "$fifo" "$sys" 1000 25 "$interval" "$tmp/big.taken" \
	--fast 100 --excursion 500)
# shellcheck disable=SC2086
kill $flood_pids; wait $flood_pids 2>/dev/null
check "the feeder ran ($fed)" grep -q '^FED [0-9]' <<<"$fed"
written "$tmp/big.taken" 1000 || fail "the last interval fed was not written"
stop
out=$(compare "$tmp/big.taken"); details "$out"
check "per unit and interval: every sample taken is counted there, or lost with why ($(summary "$out"))" \
	grep -qx 'rows [0-9]* lost [0-9]* bad 0' <<<"$(summary "$out")"
check "every unit's every interval fed was compared ($(summary "$out"))" \
	test "$(summary "$out" | awk '{ print $2 }')" -ge 2000
echo "a fast unit took up to $(awk '$1 == "SIM-000007" && $3 > m { m = $3 } END { print m }' \
	"$tmp/big.taken") samples an interval, three at a time"
check "the feeder sent SIM-000500's one-sample excursion" \
	grep -q '^SIM-000500 [0-9]* [0-9]* 5000$' "$tmp/big.taken"
exc=$(q "SELECT count(*) FROM record WHERE serial = 'SIM-000500' AND probe = 1 AND max = 5000")
check "and it is in its interval's max ($exc row)" test "$exc" -eq 1
# Lost here only if a window ran over a second late (32 samples of a fast
# unit) or a sample came after its interval was written, on a machine busy
# beyond that: said, not a failure, as long as it is accounted for (above).
echo "samples counted lost under the flood: $(q "SELECT coalesce(sum(lost), 0) FROM record
	WHERE probe = 1") (why: $(q "SELECT group_concat(DISTINCT lost_why) FROM record WHERE lost != 0"))"

# --- Samples lost on purpose: a jump of sample_seq (3 never sent).
run lossy 3 || { fail "coldroomd and the recorder did not start on 3 units"; exit 1; }
fed=$(python3 "$feed" feed "$fifo" "$sys" 3 25 "$interval" "$tmp/lossy.taken" --skip 0:3)
check "the feeder ran ($fed)" grep -q '^FED [0-9]' <<<"$fed"
written "$tmp/lossy.taken" 3 || fail "the last interval fed was not written"
lost_prop=$(rec_prop SamplesLost)
check "SamplesLost says 3 ($lost_prop)" test "$lost_prop" = "t 3"
rows=$(q "SELECT start_us, serial, lost, lost_why FROM record WHERE lost != 0")
check "a jump of 3 in sample_seq: both probes' rows of the unit say 3 lost upstream ($rows)" \
	bash -c "[ \$(wc -l <<<'$rows') -eq 2 ] && ! grep -v '|SIM-000000|3|1\$' <<<'$rows'"
start0=${rows%%|*}
page=$(rec_call GetHistoryPage2 sutttt SIM-000000 1 "$start0" $((start0 + 1)) 0 0)
check "GetHistoryPage2: the row's lost count and why ($page)" \
	grep -q '^atatauaiaiaiayauaybtt 1 [0-9]* 1 [0-9]* 1 [0-9]* 1 -\?[0-9]* 1 -\?[0-9]* 1 -\?[0-9]* 1 0 1 3 1 1 false ' <<<"$page"
since=$((start0 / 1000000)) until=$((start0 / 1000000 + 1))
out=$(ctl history SIM-000000 --since "@$since" --until "@$until")
check "history: 3 lost, and why ($out)" grep -q ' ok, 3 lost (upstream)$' <<<"$out"
out=$(ctl history SIM-000000 --since "@$since" --until "@$until" --csv)
check "history --csv: the lost and why columns ($out)" \
	grep -q ',SIM-000000,1,[0-9]*,.*,ok,3,upstream$' <<<"$out"
out=$(ctl history SIM-000000 --since "@$since" --until "@$until" --json)
check "history --json: lost and why ($out)" grep -q '"lost":3,"lost_why":\["upstream"\]' <<<"$out"
stop
out=$(compare "$tmp/lossy.taken"); details "$out"
check "per unit and interval: counted, or lost, exactly ($(summary "$out"))" \
	grep -qx 'rows [0-9]* lost 3 bad 0' <<<"$(summary "$out")"
out=$("$COLDROOMCTL" --database "$db" record verify --no-journal); rc=$?
check "record verify: intact, lost counts in the chain (rc $rc: $out)" test "$rc" -eq 0
q "UPDATE record SET lost = 0 WHERE lost = 3 AND probe = 1"
out=$("$COLDROOMCTL" --database "$db" record verify --no-journal); rc=$?
check "a lost count rewritten is found (rc $rc: $out)" \
	bash -c "[ $rc -eq 7 ] && grep -q 'was changed' <<<'$out'"

# --- The kernel's ring overflows: 5 samples of the unit not in the ring,
# its overflow record, the latest of them in sysfs, which coldroomd reads.
run overflow 1 || { fail "coldroomd and the recorder did not start on 1 unit"; exit 1; }
fed=$(python3 "$feed" feed "$fifo" "$sys" 1 25 "$interval" "$tmp/overflow.taken" \
	--overflow 0:5)
check "the feeder ran ($fed)" grep -q '^FED [0-9]' <<<"$fed"
written "$tmp/overflow.taken" 1 || fail "the last interval fed was not written"
rows=$(q "SELECT lost, lost_why FROM record WHERE lost != 0")
check "a ring overflow of 5, the last read back: 4 lost upstream on both probes ($rows)" \
	test "$rows" = $'4|1\n4|1'
check "coldroomd said the overflow" grep -q "5 records lost" "$tmp/overflow/daemon.log"
stop
out=$(compare "$tmp/overflow.taken"); details "$out"
check "per interval: counted, or lost, exactly ($(summary "$out"))" \
	grep -qx 'rows [0-9]* lost 4 bad 0' <<<"$(summary "$out")"

echo "test_recorder_every: $failures failure(s)"
[ "$failures" -eq 0 ]
