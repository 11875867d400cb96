#!/bin/bash
# coldroom-recorder killed with SIGKILL 100 times at random moments (90
# while it starts and writes its first transaction, 10 around an
# interval's write), restarted each time, on a record that has rows: the database passes SQLite's
# integrity_check, record verify says intact, and no time is missing from
# the record (each row starts where the record so far ends, or in an
# interval already begun): at most the interval in progress is lost, and
# the time it was down is a not-running row.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, RECORDER.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/coldroom-recorder-kill.XXXXXX")
bus_pid= daemon_pid= recorder_pid=
cleanup() {
	local p
	for p in $recorder_pid $daemon_pid $bus_pid; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

units=50
sys=$tmp/sys
mkdir -p "$sys/class/coldroom" "$tmp/model"
for i in $(seq 0 $((units - 1))); do
	fake_unit "$sys" "sensor$i" "$(printf 'SIM-%06d' "$i")"
done
printf 'ModelFirmwareDir=%s\nRecordIntervalSec=10\n' "$tmp/model" >"$tmp/coldroom.conf"
start_private_bus "$tmp" || { echo "test_recorder_kill: no dbus-daemon"; exit 1; }
"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do "$COLDROOMCTL" --bus "$addr" list >/dev/null 2>&1 && break; sleep 0.1; done
db=$tmp/record.db
q() { sqlite3 -batch -noheader "$db" "$1"; }

start() {
	"$RECORDER" --bus "$addr" --config "$tmp/coldroom.conf" --database "$db" 2>>"$tmp/recorder.log" &
	recorder_pid=$!
}
kill9() { kill -9 "$recorder_pid" 2>/dev/null; wait "$recorder_pid" 2>/dev/null; recorder_pid=; }
# sleep_ms N
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# A record with rows first, so that every restart has a gap to write.
start
for _ in $(seq 300); do [ "$(q "SELECT count(*) FROM record" 2>/dev/null || echo 0)" -gt 0 ] && break; sleep 0.1; done
kill "$recorder_pid"; wait "$recorder_pid"; recorder_pid=
check "the first recorder wrote rows" test "$(q "SELECT count(*) FROM record")" -gt 0

for i in $(seq 1 100); do
	start
	if [ $((i % 10)) -eq 0 ]; then
		# Into an interval's write: from 4.9 to 5.3 s after a boundary (the
		# write is due at 5 s, its timer may fire up to 100 ms late).
		now_ms=$(( $(date +%s%N) / 1000000 ))
		at_ms=$(( (now_ms / 10000 + 1) * 10000 + 4900 + RANDOM % 400 ))
		sleep_ms $((at_ms - now_ms))
	else
		sleep_ms $((RANDOM % 400))
	fi
	kill9
done
pass "100 SIGKILLs at random moments"
# Then one whole interval, boundary to boundary, written after the last kill.
full_rows() { q "SELECT count(*) FROM record WHERE serial = 'SIM-000049' AND end_us - start_us = 10000000" 2>/dev/null || echo 0; }
before=$(full_rows)
start
for _ in $(seq 300); do [ "$(full_rows)" -gt "$before" ] && break; sleep 0.1; done
check "a whole interval is written after the kills" test "$(full_rows)" -gt "$before"
kill "$recorder_pid"; wait "$recorder_pid"; rc=$?; recorder_pid=
check "the last recorder stops cleanly" test "$rc" -eq 0

check "PRAGMA integrity_check: ok" test "$(q 'PRAGMA integrity_check')" = ok
out=$("$COLDROOMCTL" --database "$db" record verify 2>&1); rc=$?
check "record verify: $out" test "$rc" -eq 0
starts=$(q "SELECT count(*) FROM audit WHERE event = 'recorder-started'")
check "the trail has the starts that got as far as their first commit ($starts)" test "$starts" -ge 2
# No time missing: every row starts within what the rows before it cover.
holes=$(q "SELECT count(*) FROM (SELECT start_us, max(end_us) OVER (ORDER BY seq
	ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered FROM record)
	WHERE covered IS NOT NULL AND start_us > covered")
check "no time is missing from the record ($holes holes)" test "$holes" = 0
down=$(q "SELECT count(*) FROM record WHERE status = 4")
check "the time it was down is in not-running rows ($down)" test "$down" -ge 1

kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null; daemon_pid=
[ "$failures" -ne 0 ] && tail -n 20 "$tmp/recorder.log"
echo "test_recorder_kill: $failures failure(s)"
[ "$failures" = 0 ]
