#!/bin/bash
# coldroom-recorder under a flood of Verify, GetHistory and MKT calls from
# several connections while it records: its watchdog is fed throughout
# (WATCHDOG_USEC and a NOTIFY_SOCKET of our own stand in for systemd),
# readings go on being recorded, the verdict is right, and a row changed
# behind the recorder's back is found by the next call.
# Verify's limits (one call pending per sender, 32 in all) and GetHistory in
# pages. Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, RECORDER,
# RECORD_FILL, VERIFY_LIMITS.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-recorder-flood

two_units test_recorder_flood
q() { sqlite3 -batch -noheader -cmd '.timeout 10000' "$db" "$1"; }
call() { busctl --address="$addr" call org.coldroom.Recorder1 /org/coldroom/Recorder1 \
	org.coldroom.Recorder1 "$@"; }

# Yesterday of 40 units, so that a walk takes many slices.
day=$(( $(date +%s) / 86400 * 86400 - 86400 ))
serials=$(for i in $(seq 1 40); do printf 'FILL-%06d ' "$i"; done)
# shellcheck disable=SC2086
"$RECORD_FILL" "$db" "$day" $serials || { fail "record_fill"; exit 1; }

# systemd's side of sd_notify: every datagram, with the time it came.
start_notify_listener "$tmp/notify" "$tmp/notify.log" ||
	{ fail "the notify listener did not start"; exit 1; }

"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" 2>>"$tmp/daemon.log" &
daemon_pid=$!
wait_for 20 ctl list >/dev/null 2>&1 || { fail "coldroomd did not start"; exit 1; }

# The watchdog as systemd would set it: WatchdogSec=10.
watchdog_us=10000000
NOTIFY_SOCKET=$tmp/notify WATCHDOG_USEC=$watchdog_us \
	"$RECORDER" --bus "$addr" --config "$tmp/coldroom.conf" --database "$db" \
	2>>"$tmp/recorder.log" &
recorder_pid=$!
check "the recorder says READY=1" wait_for 20 grep -q ' READY=1$' "$tmp/notify.log"
wait_for 20 busctl --address="$addr" call org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus NameHasOwner s org.coldroom.Recorder1 2>/dev/null | grep -q true

# Readings all along: a sample of sensor0 every half second.
(
	while :; do
		fake_sample "$sys" sensor0 -18000 4000
		ctl reload >/dev/null 2>&1
		sleep 0.5
	done
) &
extra_pids="$extra_pids $!"
flood_start=$(date +%s)

# Six connections at a time, each a Verify or a read of history or events.
: >"$tmp/verify.out"
flooder() {
	local end=$(($(date +%s) + 30)) since=${day}000000 until=$(( (day + 86400) * 1000000 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		call Verify >>"$tmp/verify.$1" 2>&1
		call GetHistory sutt "FILL-0000$(( $1 + 10 ))" 1 "$since" "$until" >/dev/null 2>>"$tmp/history.err.$1"
		call GetHistory sutt SIM-000001 1 0 18446744073709551615 >/dev/null 2>>"$tmp/history.err.$1"
		call GetHistoryPage sutttt "FILL-0000$(( $1 + 20 ))" 2 "$since" "$until" 0 0 >/dev/null 2>>"$tmp/history.err.$1"
		call GetEventsPage stttt SIM-000001 0 18446744073709551615 0 0 >/dev/null 2>>"$tmp/history.err.$1"
		call GetMeanKineticTemperaturePage sutttt "FILL-0000$(( $1 + 30 ))" 1 0 18446744073709551615 0 0 \
			>/dev/null 2>>"$tmp/history.err.$1"
	done
}
flood_pids=
for i in 1 2 3 4 5 6; do flooder "$i" & flood_pids="$flood_pids $!"; done
extra_pids="$extra_pids $flood_pids"
# shellcheck disable=SC2086
wait $flood_pids
flood_end=$(date +%s)

check "the recorder is still running" kill -0 "$recorder_pid"
# The longest time between two WATCHDOG=1 from READY=1 on: under WATCHDOG_USEC.
gap=$(watchdog_gap "$tmp/notify.log")
check "WATCHDOG=1 kept coming (${gap% *} us at most between two, ${gap#* } in all)" \
	test "${gap#* }" -ge 2 -a "${gap% *}" -lt "$watchdog_us"
verdicts=$(cat "$tmp"/verify.[0-9] | sort | uniq -c)
check "every Verify in the flood: intact, or the limit ($verdicts)" bash -c \
	"! grep -v -e '^bxxs true' -e 'Verify calls are pending' -e 'still pending' $tmp/verify.[0-9]"
check "and some were answered intact" grep -q '^bxxs true' "$tmp"/verify.[0-9]
check "no GetHistory failed" bash -c "! grep -q . $tmp/history.err.[0-9]"
# An interval is written once it has closed, a little after its end: wait
# for the last one inside the flood rather than count too early.
flood_rows() {
	q "SELECT count(*) FROM record WHERE serial = 'SIM-000001' AND probe = 1 AND n > 0
	AND start_us >= ${flood_start}000000 AND end_us <= ${flood_end}000000"
}
enough_flood_rows() { test "$(flood_rows)" -ge 2; }
wait_for 30 enough_flood_rows
rows=$(flood_rows)
check "readings were recorded during the flood ($rows intervals)" test "$rows" -ge 2
out=$(call Verify)
check "Verify after the flood: intact ($out)" grep -q '^bxxs true' <<<"$out"

# The limits, with no race: the recorder stopped while 34 calls queue up
# (verify_limits.c says why none can be answered before all are taken).
kill -STOP "$recorder_pid"
wait_for 10 bash -c "[ \"\$(awk '{ print \$3 }' /proc/$recorder_pid/stat)\" = T ]" ||
	fail "the recorder did not stop"
"$VERIFY_LIMITS" "$addr" "$recorder_pid" >"$tmp/limits.out" 2>&1
rc=$?
kill -CONT "$recorder_pid"
limits=$(sort "$tmp/limits.out" | uniq -c | sed 's/(as of.*//')
check "verify_limits ran (rc $rc)" test "$rc" -eq 0
check "a sender's first call is answered intact ($limits)" grep -q '^first ok true ' "$tmp/limits.out"
check "its second, while the first is pending: LimitsExceeded" grep -q \
	'^second error org.freedesktop.DBus.Error.LimitsExceeded: a Verify call of .* is still pending' \
	"$tmp/limits.out"
check "31 other senders answered intact" test "$(grep -c '^other ok true ' "$tmp/limits.out")" -eq 31
check "the 33rd sender: LimitsExceeded" test "$(grep -c \
	'^other error org.freedesktop.DBus.Error.LimitsExceeded: 32 Verify calls are pending' \
	"$tmp/limits.out")" -eq 1
check "and nothing else" test "$(wc -l <"$tmp/limits.out")" -eq 34
out=$(call Verify)
check "Verify afterwards: intact ($out)" grep -q '^bxxs true' <<<"$out"

# One unit's day (1440 rows) in pages: the first full, the rest after its cursor.
since=${day}000000 until=$(( (day + 86400) * 1000000 ))
total=$(q "SELECT count(*) FROM record WHERE serial = 'FILL-000001' AND probe = 1
	AND start_us < $until AND end_us > $since")
total=$((total + $(q "SELECT count(*) FROM record WHERE serial = '' AND start_us < $until
	AND end_us > $since")))
got=0 pages=0 after_start=0 after_seq=0 more=true
while [ "$more" = true ] && [ "$pages" -lt 2000 ]; do
	# "at N ..." x7, then "b t t" at the end.
	reply=$(call GetHistoryPage sutttt FILL-000001 1 "$since" "$until" "$after_start" "$after_seq") ||
		{ fail "GetHistoryPage: $reply"; break; }
	n=$(awk '{ print $2 }' <<<"$reply")
	read -r more after_start after_seq < <(awk '{ print $(NF - 2), $(NF - 1), $NF }' <<<"$reply")
	[ "$more" = false ] || [ "$n" -ge 1 ] || { fail "an empty page with more to come"; break; }
	[ "$n" -le 1000 ] || { fail "a page of $n rows"; break; }
	got=$((got + n)) pages=$((pages + 1))
done
check "GetHistoryPage: all $total rows in $pages pages ($got)" test "$got" -eq "$total" -a "$pages" -ge 2
out=$(call GetHistory sutt FILL-000001 1 "$since" "$until" | awk '{ print $2 }')
check "GetHistory: its first page only ($out rows)" test "$out" -ge 1 -a "$out" -le 1000

# An old row, far behind the recorder's checkpoint: a call walks from the base.
q "UPDATE record SET max = max + 1 WHERE seq = 10"
out=$(call Verify)
check "Verify finds a row changed before its checkpoint ($out)" \
	grep -q '^bxxs false .*record row 10 .*was changed' <<<"$out"
q "UPDATE record SET max = max - 1 WHERE seq = 10"
out=$(call Verify)
check "and the row put back: intact ($out)" grep -q '^bxxs true' <<<"$out"

# A row written after that verdict, changed behind the recorder's back.
head=$(q "SELECT max(seq) FROM record")
wait_for 30 bash -c "[ \$(sqlite3 -batch -noheader '$db' 'SELECT max(seq) FROM record') -gt $head ]"
seq=$((head + 1))
q "UPDATE record SET max = 99999, min = -99999 WHERE seq = $seq"
out=$(call Verify)
check "Verify finds it ($out)" \
	grep -q "^bxxs false .*record row $seq .*was changed" <<<"$out"
check "and says so in the log" grep -q "NOT INTACT: record row $seq " "$tmp/recorder.log"
check "coldroomctl record verify agrees" bash -c \
	"'$COLDROOMCTL' --database '$db' record verify | grep -q 'record row $seq '"

kill "$recorder_pid"; wait "$recorder_pid"; rc=$?
recorder_pid=
check "the recorder stops cleanly (rc $rc)" test "$rc" -eq 0
check "its checkpoint is kept in the database" \
	test "$(q "SELECT value FROM meta WHERE key = 'verified_record_seq'")" -ge "$head"

echo "test_recorder_flood: $failures failure(s)"
[ "$failures" -eq 0 ]
