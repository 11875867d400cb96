#!/bin/bash
# coldroom-recorder against coldroomd on a fake sysfs tree and a private
# bus: rows per unit, probe and interval with the right aggregates, gap
# rows (a unit without samples, a unit removed, the recorder stopped),
# the audit trail, and `coldroomctl record verify` catching each kind of
# edit made with the sqlite3 CLI behind the product's back; a consistent
# rewrite (hashes and meta recomputed) caught by the chain heads the
# recorder anchored in a journal file (systemd-journal-remote makes it of
# the recorder's export-format anchors: there is no journald here).
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, RECORDER.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-recorder-test

two_units test_recorder
q() { sqlite3 -batch -noheader "${2:-$db}" "$1"; }

start_daemon() {
	"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" 2>>"$tmp/daemon.log" &
	daemon_pid=$!
	wait_for 20 ctl list >/dev/null 2>&1
}
start_recorder() {
	"$RECORDER" --bus "$addr" --config "$tmp/coldroom.conf" --database "$db" \
		--anchor-export "$tmp/anchors.export" 2>>"$tmp/recorder.log" &
	recorder_pid=$!
}
stop_recorder() {
	kill "$recorder_pid"; wait "$recorder_pid"; local rc=$?
	recorder_pid=
	return $rc
}
# sample UNIT TEMP1 TEMP2: a new sample, as the kernel would publish it
# (each unit numbers its own samples).
sample() {
	local d=$sys/class/coldroom/$1 seq_no
	read -r seq_no <"$d/sample_seq"
	echo "$2" >"$d/temp1"; echo "$3" >"$d/temp2"
	# The kernel's stamp is CLOCK_MONOTONIC (here: boot time, 10 ms steps).
	awk '{ printf "%.0f\n", $1 * 1e9 }' /proc/uptime >"$d/sample_time_ns"
	echo $((seq_no + 1)) >"$d/sample_seq"
}
# The fake tree cannot notify: a reload makes coldroomd read it again.
publish() { ctl reload >/dev/null; sleep 0.3; }
# Wait for the start of an interval, so that the samples below share one.
# (A crossing: the recorder must have started before the interval did.)
interval_start() {
	while [ $(( $(date +%s) % 10 )) -eq 0 ]; do sleep 0.1; done
	while [ $(( $(date +%s) % 10 )) -ne 0 ]; do sleep 0.1; done
}
rows() { q "SELECT count(*) FROM record $1"; }
# q_is SQL VALUE, q_ge SQL N: for wait_for, which runs them until true.
q_is() { [ "$(q "$1")" = "$2" ]; }
q_ge() { [ "$(q "$1")" -ge "$2" ] 2>/dev/null; }

start_daemon || { fail "coldroomd did not start"; cat "$tmp/daemon.log"; exit 1; }

# Bad settings: refused with the reason, and no record made.
echo RecordIntervalSec=5 >"$tmp/bad.conf"
out=$("$RECORDER" --bus "$addr" --config "$tmp/bad.conf" --database "$db" 2>&1); rc=$?
check "an interval out of range is refused ($out)" \
	test "$rc" -eq 1 -a -n "$(grep -F "RecordIntervalSec=5 is out of range" <<<"$out")"
check "and nothing was made" test ! -e "$db"
out=$(ctl --database "$db" record frobnicate 2>&1); rc=$?
check "record: an unknown action is a usage error ($out)" test "$rc" -eq 2
out=$(ctl --database "$db" record 2>&1); rc=$?
check "record: no action is a usage error" test "$rc" -eq 2

# The commits as a follower (coldroom-uplink) sees them.
dbus-monitor --address "$addr" "type='signal',interface='org.coldroom.Recorder1',member='Committed'" \
	>"$tmp/committed.log" 2>&1 &
monitor_pid=$!
extra_pids=$monitor_pid
start_recorder
check "the recorder makes its database" wait_for 10 test -s "$db"
check "in WAL mode" test "$(q 'PRAGMA journal_mode')" = wal
check "started is in the audit trail" wait_for 10 \
	q_is "SELECT count(*) FROM audit WHERE event = 'recorder-started'" 1

# One full interval: three samples of sensor0, none of sensor1.
interval_start
t0=$(( $(date +%s) / 10 * 10 ))
sleep 0.5	# clear of the boundary: stamps are converted between clocks
for t in -18000 -17000 -19500; do
	sample sensor0 "$t" "$((t + 22000))"
	publish
done
wait_for 25 q_ge "SELECT count(*) FROM record WHERE start_us = ${t0}000000" 4
check "four rows for the interval (2 units x 2 probes)" test "$(rows "WHERE start_us = ${t0}000000")" = 4
row=$(q "SELECT n, min, mean, max, status, length(samples) FROM record
	WHERE start_us = ${t0}000000 AND serial = 'SIM-000001' AND probe = 1")
check "sensor0 probe 1: n, min, mean, max, ok, 3 raw samples ($row)" \
	test "$row" = "3|-19500|-18167|-17000|0|24"
row=$(q "SELECT n, min, max FROM record WHERE start_us = ${t0}000000 AND serial = 'SIM-000001' AND probe = 2")
check "sensor0 probe 2 ($row)" test "$row" = "3|2500|5000"
row=$(q "SELECT n, min, status FROM record WHERE start_us = ${t0}000000 AND serial = 'SIM-000002' AND probe = 1")
check "sensor1 had no sample: a gap row saying no-data ($row)" test "$row" = "0||1"
check "end - start is the interval" \
	test "$(q "SELECT DISTINCT end_us - start_us FROM record WHERE start_us = ${t0}000000")" = 10000000

# The record read back over the bus, as any user would.
out=$(ctl history sensor0 --since "@$t0" --until "@$((t0 + 10))" --csv); rc=$?
check "history --csv: the interval of both probes, by unit name ($out)" bash -c \
	"[ $rc -eq 0 ] && grep -q ',${t0}000000,$((t0 + 10))000000,SIM-000001,1,3,-19.500,-18.167,-17.000,ok,0,\$' <<<'$out' &&
	 grep -q ',SIM-000001,2,3,2.500,3.833,5.000,ok,0,\$' <<<'$out'"
out=$(ctl history SIM-000002 --since "@$t0" --until "@$((t0 + 10))" --json); rc=$?
check "history --json by serial: the gap, no values ($out)" bash -c \
	"[ $rc -eq 0 ] && python3 -c 'import json, sys; json.loads(sys.argv[1])' '$out' &&
	 grep -q '\"probe\":1,\"samples\":0,\"min_mdeg\":null' <<<'$out' &&
	 grep -q '\"status\":\"no-data\"' <<<'$out'"
out=$(ctl history sensor0 --since soon 2>&1); rc=$?
check "history: a time it cannot read is a usage error ($out)" test "$rc" -eq 2
out=$(ctl history sensor0 --since now --until -1h 2>&1); rc=$?
check "history: since after until is a usage error" test "$rc" -eq 2
check "Verify over the bus: intact" bash -c \
	"busctl --address='$addr' call org.coldroom.Recorder1 /org/coldroom/Recorder1 org.coldroom.Recorder1 Verify | grep -q '^bxxs true'"

# Following the record: what was written after a seq, in seq order, bounded.
rec_json() { busctl --json=short --address="$addr" call org.coldroom.Recorder1 /org/coldroom/Recorder1 \
	org.coldroom.Recorder1 "$@"; }
# between TABLE LOW VALUE: LOW <= VALUE <= TABLE's head now.
between() { [ "$2" -le "$3" ] && [ "$3" -le "$(q "SELECT max(seq) FROM $1")" ]; }
want=$(q "SELECT seq || ',' || start_us || ',' || end_us || ',' || serial || ',' || probe || ',' || n || ','
	|| ifnull(min, 0) || ',' || ifnull(mean, 0) || ',' || ifnull(max, 0) || ',' || status
	FROM record WHERE seq > 2 ORDER BY seq LIMIT 3")
before=$(q "SELECT max(seq) FROM record")
got=$(rec_json GetRecordsAfter tu 2 3 | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
print(d[0])
for i in range(len(d[1])):
    print(",".join(str(d[k][i]) for k in range(1, 11)))')
check "GetRecordsAfter 2, 3 rows: rows 3..5 as the record has them" test "$(tail -n +2 <<<"$got")" = "$want"
check "and the head" between record "$before" "$(head -n1 <<<"$got")"
rec_head=$(head -n1 <<<"$got")
check "a Committed signal carried the record's head" wait_for 10 \
	awk -v h="$rec_head" '/member=Committed/ { getline; if ($2 >= h) found = 1 } END { exit !found }' "$tmp/committed.log"
before=$(q "SELECT max(seq) FROM audit")
got=$(rec_json GetAuditAfter tu 0 10000 | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
print(d[0])
for e in d[1]:
    print(",".join(str(e[k]) for k in (0, 1, 2, 3, 4, 13)))')
aud_head=$(head -n1 <<<"$got")
want=$(q "SELECT seq || ',' || time_us || ',' || event || ',' || serial || ',' || probe || ',' || ifnull(detail, '')
	FROM audit WHERE seq <= $aud_head ORDER BY seq")
check "GetAuditAfter 0: every entry up to the head, in order" test "$(tail -n +2 <<<"$got")" = "$want"
check "and the head" between audit "$before" "$aud_head"
# The versions with the chain: each row's hash and what the first chains from.
want=$(q "SELECT lower(hex(hash)) FROM record WHERE seq BETWEEN 2 AND 5 ORDER BY seq")
got=$(rec_json GetRecordsAfter2 tu 2 3 | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
print(bytes(d[1]).hex())
for h in d[13]:
    print(bytes(h).hex())')
check "GetRecordsAfter2 2, 3 rows: row 2's hash, then rows 3..5's, as the record has them" \
	test "$got" = "$want"
want=$(q "SELECT seq || ',' || ((user IS NULL) + 2 * (what IS NULL) + 4 * (old_value IS NULL)
	+ 8 * (new_value IS NULL) + 16 * (detail IS NULL)) || ',' || lower(hex(hash)) FROM audit
	WHERE seq <= 3 ORDER BY seq")
got=$(rec_json GetAuditAfter2 tu 0 3 | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
assert bytes(d[1]) == bytes(32), "the first entry chains from zeros"
for e in d[2]:
    print("%d,%d,%s" % (e[0], e[14], bytes(e[15]).hex()))')
check "GetAuditAfter2: each entry's NULL columns and hash ($got)" test "$got" = "$want"
got=$(rec_json GetRecordsAfter tu 1000000 100 | python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; print(len(d[1]))')
check "GetRecordsAfter past the head: no rows ($got)" test "$got" = 0
out=$(busctl --address="$addr" call org.coldroom.Recorder1 /org/coldroom/Recorder1 \
	org.coldroom.Recorder1 GetAuditAfter tu 0 0 2>&1); rc=$?
check "GetAuditAfter of 0 entries: invalid arguments ($out)" bash -c "[ $rc -ne 0 ] && grep -q 'count must be 1 to 10000' <<<'$out'"
out=$(busctl --address="$addr" call org.coldroom.Recorder1 /org/coldroom/Recorder1 \
	org.coldroom.Recorder1 GetRecordsAfter tu 0 10001 2>&1); rc=$?
check "GetRecordsAfter of 10001 rows: invalid arguments ($out)" bash -c "[ $rc -ne 0 ] && grep -q 'count must be 1 to 10000' <<<'$out'"

# Alarm and settings into the audit trail.
echo 1 >"$sys/class/coldroom/sensor0/temp1_alarm"
sample sensor0 -9000 4000
echo "Freezer 2" >"$sys/class/coldroom/sensor1/label"
publish
check "a threshold alarm is in the trail, with its reading" wait_for 10 \
	q_is "SELECT reading FROM audit WHERE event = 'threshold-exceeded' AND serial = 'SIM-000001' AND probe = 1" -9000
check "coldroomd's alarm (no delay configured) is in the trail, with its reading" wait_for 10 \
	q_is "SELECT reading FROM audit WHERE event = 'alarm-raised' AND serial = 'SIM-000001' AND probe = 1" -9000
ctl ack sensor0 1 --comment "moved the stock to freezer 2" >/dev/null || fail "coldroomctl ack"
printed=$(getent passwd "$(id -u)" | cut -d: -f5 | cut -d, -f1)
check "its acknowledgement is in the trail: who, the comment, the signature's manifestation" wait_for 10 \
	q_is "SELECT uid || ':' || user || ':' || detail FROM audit
		WHERE event = 'alarm-acknowledged' AND serial = 'SIM-000001' AND probe = 1" \
	"$(id -u):$(id -un):alarm 1 (temperature), level 1: moved the stock to freezer 2; signed by ${printed:-$(id -un)} ($(id -un)), meaning: acknowledged"
# Refused attempts (no polkit on this bus: the groups decide, and nobody is in none).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$COLDROOMCTL" --bus "$addr" "$@"; }
	out=$(as_nobody --no-ask-password set sensor1 "label=Hacked" 2>&1); rc=$?
	check "a plain user's change is refused (exit 5: $out)" test "$rc" -eq 5
	out=$(as_nobody --no-ask-password ack sensor0 1 --comment "not mine" 2>&1); rc=$?
	check "and so is their acknowledgement ($out)" test "$rc" -eq 5
	check "both attempts are in the trail as refused, with who and what" wait_for 10 \
		q_is "SELECT group_concat(uid || ':' || serial || ':' || probe || ':' || what, ' ') FROM
			(SELECT * FROM audit WHERE event = 'refused' ORDER BY seq)" \
		"65534:SIM-000002:0:org.coldroom.sensors.configure 65534:SIM-000001:1:org.coldroom.sensors.acknowledge"
	check "and nothing changed" test "$(cat "$sys/class/coldroom/sensor1/label")" != Hacked
fi

# Signing a day's report (Recorder1.SignReport): root is not asked.
today=$(date +%F)
out=$(ctl sign sensor0 "$today" reviewed --comment "all in band" 2>&1)
check "root signs sensor0's day report ($out)" test $? -eq 0
check "the signature's manifestation is in the trail" wait_for 10 \
	q_is "SELECT uid || ':' || user || ':' || what || ':' || new_value || ':' || detail FROM audit
		WHERE event = 'report-signed' AND serial = 'SIM-000001'" \
	"$(id -u):$(id -un):reviewed:$today:day report of $today signed by ${printed:-$(id -un)} ($(id -un)), meaning: reviewed: all in band"
signed=$(q "SELECT count(*) FROM audit")
for bad in "2026-02-30" "$(date -d tomorrow +%F)" "today" "$today x"; do
	out=$(ctl sign sensor0 "$bad" approved 2>&1); rc=$?
	check "a day '$bad' is refused as invalid ($out)" test "$rc" -eq 6
done
out=$(busctl --address="$addr" call org.coldroom.Recorder1 /org/coldroom/Recorder1 \
	org.coldroom.Recorder1 SignReport ssss SIM-000001 "$today" "signed off" "" 2>&1); rc=$?
check "a meaning other than reviewed or approved is refused ($out)" \
	bash -c '[ "$1" -ne 0 ] && grep -qF "is '"'reviewed' or 'approved'"'" <<<"$2"' _ "$rc" "$out"
check "and none of them is in the trail" test "$(q "SELECT count(*) FROM audit")" = "$signed"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# A stand-in polkit authority: a person's password typed right, then a prompt dismissed.
	echo "65534 * auth-ok" >"$tmp/polkit-verdicts"
	: >"$tmp/polkit.log"; chmod 0644 "$tmp/polkit.log"
	"$MOCK_POLKIT" "$addr" "$tmp/polkit-verdicts" "$tmp/polkit.log" &
	mock_pid=$!
	extra_pids="$extra_pids $mock_pid"
	wait_for 10 busctl --address="$addr" status org.freedesktop.PolicyKit1 >/dev/null 2>&1
	out=$(as_nobody sign SIM-000002 "$today" approved --comment "second look" 2>&1); rc=$?
	check "an operator who types the password signs ($out)" test "$rc" -eq 0
	check "polkit was asked about the caller, allowed to prompt" \
		grep -q '^65534 org.coldroom.sensors.sign-report 1 system-bus-name$' "$tmp/polkit.log"
	check "the signature names them" wait_for 10 \
		q_is "SELECT uid || ':' || what FROM audit WHERE event = 'report-signed' AND serial = 'SIM-000002'" \
		"65534:approved"
	echo "65534 * auth-cancel" >"$tmp/polkit-verdicts"
	out=$(as_nobody sign SIM-000002 "$today" reviewed 2>&1); rc=$?
	check "a dismissed prompt is refused (exit 5: $out)" test "$rc" -eq 5
	check "and is in the trail as a refused signature" wait_for 10 \
		q_is "SELECT count(*) FROM audit WHERE event = 'refused' AND serial = 'SIM-000002'
			AND what = 'org.coldroom.sensors.sign-report' AND detail LIKE 'cancelled: %'" 1
	check "with no second signature" \
		test "$(q "SELECT count(*) FROM audit WHERE event = 'report-signed' AND serial = 'SIM-000002'")" = 1
	kill "$mock_pid"; wait "$mock_pid" 2>/dev/null
fi
check "a label change is in the trail, old and new" wait_for 10 \
	q_is "SELECT old_value || '>' || new_value FROM audit WHERE event = 'setting-changed' AND what = 'label'" "Room sensor1>Freezer 2"

check "a change made behind coldroomd's back says who is not known" \
	q_is "SELECT uid IS NULL AND detail LIKE '%who is not known%' FROM audit WHERE what = 'label'" 1
# Through coldroomd: who, old and new, once (not again from PropertiesChanged).
ctl set sensor0 "label=Freezer 1" temp1.max=-10C >/dev/null || fail "coldroomctl set"
check "a label set through coldroomd is in the trail with who did it" wait_for 10 \
	q_is "SELECT uid || ':' || user || ':' || old_value || '>' || new_value FROM audit
		WHERE what = 'label' AND serial = 'SIM-000001'" "$(id -u):$(id -un):Room sensor0>Freezer 1"
check "so is the threshold, once" wait_for 10 \
	q_is "SELECT count(*) || ':' || max(old_value) || '>' || max(new_value) FROM audit
		WHERE what = 'temp1_max' AND serial = 'SIM-000001'" "1:8000>-10000"
sleep 1	# the PropertiesChanged of these changes has come by now
check "and neither twice" \
	q_is "SELECT count(*) FROM audit WHERE serial = 'SIM-000001' AND event = 'setting-changed'" 2
ctl firmware sensor0 reload >/dev/null || fail "coldroomctl firmware reload"
check "a firmware reload request is in the trail with who" wait_for 10 \
	q_is "SELECT uid FROM audit WHERE event = 'firmware-reload-requested' AND serial = 'SIM-000001'" "$(id -u)"

# A unit removed: its intervals say so.
rm -rf "$sys/class/coldroom/sensor1"
publish
check "unit removal is in the trail" wait_for 10 \
	q_is "SELECT count(*) FROM audit WHERE event = 'unit-removed' AND serial = 'SIM-000002'" 1
check "and the next interval of it is a unit-gone gap" wait_for 25 \
	q_ge "SELECT count(*) FROM record WHERE serial = 'SIM-000002' AND status = 3" 1

# A unit that appears while the recorder runs (InterfacesAdded): in the
# trail at once and recorded from then on.
fake_unit "$sys" sensor2 SIM-000003
publish
check "a unit added while recording is in the trail" wait_for 10 \
	q_is "SELECT count(*) FROM audit WHERE event = 'unit-added' AND serial = 'SIM-000003'" 1
check "and has rows of its own" wait_for 25 \
	q_ge "SELECT count(*) FROM record WHERE serial = 'SIM-000003'" 1

# Bounded by the units that exist: coldroomd names the largest Number
# there is in InterfacesAdded and Readings (lib.sh, huge_units).
rss0=$(rss_kb "$recorder_pid")
huge_units "$sys"
publish
check "the unit of the largest Number is in the trail" wait_for 10 \
	q_is "SELECT count(*) FROM audit WHERE event = 'unit-added' AND serial = 'SIM-100000'" 1
sample sensor1048575 -20000 3000
publish
check "and its sample in its rows" wait_for 25 \
	q_ge "SELECT count(*) FROM record WHERE serial = 'SIM-100000' AND n > 0 AND min = -20000" 1
check "a unit without a Number is not recorded" \
	q_is "SELECT count(*) FROM audit WHERE serial = 'SIM-100001'" 0
check "the recorder's resident memory grew by at most 20 MB" rss_within "$recorder_pid" "$rss0" 20480

# Stopped for a while: a host gap row when it is back.
check "the recorder stops cleanly" stop_recorder
check "the stop is in the trail" test "$(q "SELECT count(*) FROM audit WHERE event = 'recorder-stopped'")" = 1
stopped_at=$(q "SELECT max(end_us) FROM record")
sleep 3
start_recorder
check "after a restart: a not-running gap from the stop to the start" wait_for 10 \
	q_is "SELECT count(*) FROM record WHERE serial = '' AND status = 4 AND start_us = $stopped_at AND end_us - start_us >= 2500000" 1
check "the restart is in the trail" wait_for 10 \
	q_is "SELECT count(*) FROM audit WHERE event = 'recorder-started'" 2
check "a second recorder on the same record is refused" \
	bash -c "! '$RECORDER' --bus '$addr' --config '$tmp/coldroom.conf' --database '$db' 2>'$tmp/second.log'"
check "and says why" grep -q "another recorder is writing it" "$tmp/second.log"
check "the recorder stops cleanly again" stop_recorder

# verify: intact, then each kind of tampering on a copy.
out=$(ctl --database "$db" record verify); rc=$?
check "record verify: intact ($out)" test "$rc" = 0 -a -n "$(grep -F intact <<<"$out")"
check "record verify --json" bash -c "'$COLDROOMCTL' --json --database '$db' record verify | grep -q '\"intact\":true'"
tampered() { # tampered NAME SQL|--truncate: verify of a tampered copy
	cp "$db" "$tmp/$1.db"
	if [ "$2" = --truncate ]; then truncate -s "$3" "$tmp/$1.db"; else q "$2" "$tmp/$1.db"; fi
	out=$(ctl --database "$tmp/$1.db" record verify 2>&1); rc=$?
}
first=$(q "SELECT min(seq) FROM record WHERE n > 0")
tampered changed "UPDATE record SET max = max + 1 WHERE seq = $first"
check "one temperature changed: caught, row $first named ($out)" \
	test "$rc" = 7 -a -n "$(grep -F "record row $first " <<<"$out")"
tampered deleted "DELETE FROM record WHERE seq = 3"
check "one row deleted: caught ($out)" test "$rc" = 7 -a -n "$(grep -F "rows 3..3" <<<"$out")"
tampered swapped "UPDATE record SET seq = -1 WHERE seq = 1; UPDATE record SET seq = 1 WHERE seq = 2; UPDATE record SET seq = 2 WHERE seq = -1"
check "two rows swapped: caught at row 1 ($out)" test "$rc" = 7 -a -n "$(grep -F "record row 1 " <<<"$out")"
tampered audit "UPDATE audit SET new_value = 'Freezer 3' WHERE event = 'setting-changed'"
check "an audit entry changed: caught ($out)" test "$rc" = 7 -a -n "$(grep -F "audit row" <<<"$out")"
size=$(stat -c %s "$db")
tampered truncated --truncate $((size / 2))
check "the file truncated: caught ($out)" test "$rc" = 7
tampered emptied --truncate 0
check "the file emptied: caught ($out)" test "$rc" = 7
expect_missing=$(ctl --database "$tmp/none.db" record verify 2>&1); rc=$?
check "a missing record: an error, not a verdict ($expect_missing)" test "$rc" = 1

# Anchors: the heads the recorder committed, checked from a real journal file.
anchors=$(grep -c '^MESSAGE_ID=4e03b7dfd7114b3b95e26ce8dfdda6ad$' "$tmp/anchors.export")
commits=$(grep -c 'member=Committed' "$tmp/committed.log")
check "an anchor per commit that moved a head ($anchors anchors, $commits Committed)" \
	test "$anchors" -ge "$commits" -a "$commits" -ge 3
last=$(grep '^COLDROOM_RECORD_SEQ=' "$tmp/anchors.export" | tail -n1 | cut -d= -f2)
check "the last anchor is the record's head ($last)" test "$last" = "$(q 'SELECT max(seq) FROM record')"
# A forged anchor from another user (journald stamps _UID): not believed.
printf '%s\n' "__REALTIME_TIMESTAMP=$(date +%s)000000" "__MONOTONIC_TIMESTAMP=1" \
	"_BOOT_ID=$(tr -d - </proc/sys/kernel/random/boot_id)" _UID=65534 \
	MESSAGE_ID=4e03b7dfd7114b3b95e26ce8dfdda6ad "COLDROOM_DATABASE=$(realpath "$db")" \
	COLDROOM_RECORD_SEQ=1 "COLDROOM_RECORD_HASH=$(printf '%064d' 0)" \
	COLDROOM_AUDIT_SEQ=1 "COLDROOM_AUDIT_HASH=$(printf '%064d' 0)" "" >>"$tmp/anchors.export"
jfile=$tmp/anchors.journal
journal_remote=$(command -v systemd-journal-remote || ls /lib/systemd/systemd-journal-remote \
	/usr/lib/systemd/systemd-journal-remote 2>/dev/null | head -n1)
out=$("${journal_remote:-systemd-journal-remote}" --output="$jfile" "$tmp/anchors.export" 2>&1)
check "systemd-journal-remote makes a journal file of the anchors ($out)" test -s "$jfile"
out=$(ctl --database "$db" record verify --journal-file "$jfile"); rc=$?
check "verify against the journal: intact, every anchor agrees ($out)" bash -c \
	"[ $rc = 0 ] && grep -q 'journal: $anchors anchors from .* agree' <<<'$out'"
out=$(ctl --json --database "$db" record verify --journal-file "$jfile"); rc=$?
check "verify --json against the journal ($out)" bash -c \
	"[ $rc = 0 ] && grep -q '\"journal\":{\"agree\":true,\"anchors\":$anchors,' <<<'$out'"
out=$(ctl --database "$db" record verify --journal-file "$tmp/none.journal" 2>&1); rc=$?
check "a journal file that is not there: an error ($out)" test "$rc" = 1
out=$(ctl --database "$db" record verify --no-journal --journal-file "$jfile" 2>&1); rc=$?
check "--no-journal with a journal file: a usage error" test "$rc" = 2

# The attack: one temperature edited as root, every later hash and the
# head in meta recomputed from RECORD.md's encoding.
cp "$db" "$tmp/pristine.db"
edit=$(q "SELECT min(seq) FROM record WHERE n > 0")
out=$(python3 "$here/../record/chain.py" rewrite "$db" "$edit" max -30000); rc=$?
check "the rewrite ($out)" test "$rc" = 0
check "it changed the row" q_is "SELECT max FROM record WHERE seq = $edit" -30000
out=$(ctl --database "$db" record verify --no-journal); rc=$?
check "the chain alone says intact: the file cannot tell ($out)" bash -c \
	"[ $rc = 0 ] && grep -q 'intact' <<<'$out' && grep -q 'journal: not checked' <<<'$out'"
out=$(ctl --database "$db" record verify --journal-file "$jfile"); rc=$?
first_bad=$(grep -o 'the journal anchored row [0-9]*' <<<"$out" | grep -o '[0-9]*$')
range=$(grep -o 'record rows [0-9]*\.\.[0-9]*' <<<"$out" | grep -o '[0-9]*\.\.[0-9]*')
check "the journal catches it: not intact, exit 7 ($out)" bash -c \
	"[ $rc = 7 ] && grep -q 'journal: NOT INTACT' <<<'$out'"
check "and names the rows: ${range:-none} holds the edited row $edit and ends at the first anchored row that disagrees ($first_bad)" \
	bash -c "[ '${range%%..*}' -le $edit ] && [ $edit -le '${range##*..}' ] && [ '${range##*..}' = '$first_bad' ]"
out=$(ctl --json --database "$db" record verify --journal-file "$jfile"); rc=$?
check "--json lists the anchored rows that disagree ($out)" bash -c \
	"[ $rc = 7 ] && grep -q '\"record_disagree\":\[$first_bad[],]' <<<'$out' &&
	 grep -q '\"audit_disagree\":\[\]' <<<'$out'"
cp "$tmp/pristine.db" "$db"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 600 "$db"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$COLDROOMCTL" --database "$db" record verify 2>&1); rc=$?
	check "a user who may not read the record gets an error ($out)" test "$rc" = 1
fi

kill "$daemon_pid"; wait "$daemon_pid"; daemon_pid=
kill "$monitor_pid"
if [ "$failures" -ne 0 ]; then
	echo "--- recorder log"; cat "$tmp/recorder.log"
	echo "--- record"; q "SELECT seq, start_us, end_us, serial, probe, n, status FROM record"
	echo "--- audit"; q "SELECT seq, time_us, event, serial, probe, what, detail FROM audit"
fi
echo "test_recorder: $failures failure(s)"
[ "$failures" = 0 ]
