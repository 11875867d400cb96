#!/bin/bash
# coldroomctl history and report against coldroom-recorder on a private
# bus, with a day of record written by the product's own writer
# (record_fill): the PDF has a page per unit and says what happened (the
# alarm, who acknowledged it, the gap, the verdict, an overdue calibration),
# the PNG and SVG are the same drawing, bad requests are refused, and a
# record edited behind the recorder's back makes the report say NOT INTACT.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, RECORDER,
# RECORD_FILL.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
export TZ=UTC
scratch_dir coldroom-report-test

day=2026-01-15
db=$tmp/record.db
"$RECORD_FILL" "$db" "$(date -u -d "$day" +%s)" SIM-000001 SIM-000002 ||
	{ echo "test_report: record_fill failed"; exit 1; }
sys=$tmp/sys
mkdir -p "$sys/class/coldroom" "$tmp/model"
fake_unit "$sys" sensor0 SIM-000001
fake_unit "$sys" sensor1 SIM-000002
echo "Freezer A" >"$sys/class/coldroom/sensor0/label"
# Probe 1's band: the door left open at 10:00 takes it out for a while.
echo -22000 >"$sys/class/coldroom/sensor0/temp1_min"
echo -12000 >"$sys/class/coldroom/sensor0/temp1_max"
printf 'ModelFirmwareDir=%s\n' "$tmp/model" >"$tmp/coldroom.conf"
start_private_bus "$tmp" || { echo "test_report: no dbus-daemon"; exit 1; }
ctl() { "$COLDROOMCTL" --bus "$addr" "$@"; }

out=$(ctl report --day "$day" --unit SIM-000001 -o "$tmp/x.pdf" 2>&1); rc=$?
check "no recorder: a clear error, exit status 3 ($out)" \
	bash -c "[ $rc -eq 3 ] && grep -q 'coldroom-recorder is not running' <<<'$out'"

"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" 2>"$tmp/daemon.log" &
daemon_pid=$!
wait_for 20 ctl list >/dev/null 2>&1
"$RECORDER" --bus "$addr" --config "$tmp/coldroom.conf" --database "$db" 2>"$tmp/recorder.log" &
recorder_pid=$!
wait_for 20 bus_has_name org.coldroom.Recorder1

# Bad requests: a D-Bus error each (the methods only read).
rec_call() { busctl --address="$addr" call org.coldroom.Recorder1 /org/coldroom/Recorder1 \
	org.coldroom.Recorder1 "$@" 2>&1; }
out=$(rec_call GetHistory sutt SIM-000001 3 0 1000); rc=$?
check "GetHistory of probe 3: invalid arguments ($out)" bash -c "[ $rc -ne 0 ] && grep -q 'probe must be 1 or 2' <<<'$out'"
out=$(rec_call GetHistory sutt SIM-000001 1 2000 1000); rc=$?
check "GetHistory with since after until: invalid arguments ($out)" bash -c "[ $rc -ne 0 ] && grep -q 'since must be before until' <<<'$out'"
out=$(rec_call GetEvents stt '' 0 1000); rc=$?
check "GetEvents of no serial: invalid arguments ($out)" bash -c "[ $rc -ne 0 ] && grep -q 'a serial is 1 to 63' <<<'$out'"

# The shipped introspection XML is exactly what the recorder publishes.
if introspection_matches org.coldroom.Recorder1 "$here/../../../daemon/recorder/org.coldroom.Recorder1.xml"; then
	pass "org.coldroom.Recorder1.xml matches the recorder"
else
	fail "org.coldroom.Recorder1.xml differs from the recorder's introspection"
fi

out=$(ctl history sensor0 --since "$day 10:00" --until "$day 10:02"); rc=$?
check "history of a past day: the rows of both probes ($out)" \
	bash -c "[ $rc -eq 0 ] && [ \$(grep -c ' ok\$' <<<'$out') -eq 4 ]"

# sensor0's probe 2 was due for calibration five days before the day.
cal=$(( $(date -u -d "$day" +%s) - 400 * 86400 ))000000
due=$(( $(date -u -d "$day" +%s) - 5 * 86400 ))000000
out=$(busctl --address="$addr" call -- org.coldroom.Sensors1 /org/coldroom/Sensors1/unit/sensor0 \
	org.coldroom.Sensors1.Unit SetCalibration uttsii 2 "$cal" "$due" "CAL-0815" -120 10 2>&1)
check "a calibration is set ($out)" test $? -eq 0

out=$(ctl report --day "$day" -o "$tmp/day.pdf"); rc=$?
check "report -o PDF of every unit ($out)" \
	bash -c "[ $rc -eq 0 ] && grep -q '2 units, $day; record intact' <<<'$out'"
check "one page per unit" bash -c "pdfinfo '$tmp/day.pdf' | grep -qE '^Pages: +2\$'"
pdftotext -layout "$tmp/day.pdf" "$tmp/day.txt"
has() { grep -qF -- "$1" "$tmp/day.txt"; }
check "page 1 is the unit's day, by its label" has "Freezer A — $day"
check "with its serial and name" has "serial SIM-000001, unit sensor0"
check "the alarm raised, with the reading" has "10:03:20 alarm raised, probe 1 at -13.6"
check "its escalation" has "10:08:20 alarm escalated"
check "who acknowledged it, and the comment" has "acknowledged, probe 1 at -5.0 °C by operator1"
check "and its clearing" has "alarm cleared"
check "probe 1's band and the time out of it" \
	bash -c "grep -qF 'band now -22.0 .. -12.0' '$tmp/day.txt' && grep -qF 'out of band: 0 h 35 min' '$tmp/day.txt'"
check "the hour without data (14:00-15:00) and the probe fault" has "no data: 1 h 20 min"
check "the record's verdict" has "Record verified: intact"
check "probe 2's calibration overdue, with its certificate" \
	has "Probe 2: calibration OVERDUE since 2026-01-10 (certificate CAL-0815)"
check "and nothing else overdue" test "$(grep -c OVERDUE "$tmp/day.txt")" -eq 1
check "the other unit's page says it had no alarms" has "No alarms, acknowledgements or changes this day"

out=$(ctl report --day "$day" --unit SIM-000001 -o "$tmp/one.png"); rc=$?
check "report -o PNG of one unit ($out)" test "$rc" -eq 0
size=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]) if d[:8]==b"\x89PNG\r\n\x1a\n" else "no")' "$tmp/one.png")
check "a PNG of one A4 landscape panel at 2 px a point ($size)" test "$size" = 1684x1190
out=$(ctl report --day "$day" -o "$tmp/day.svg"); rc=$?
check "report -o SVG ($out)" bash -c "[ $rc -eq 0 ] && xmllint --noout '$tmp/day.svg'"

out=$(ctl report --day "$day" -o "$tmp/day.txt" 2>&1); rc=$?
check "another format is a usage error ($out)" bash -c "[ $rc -eq 2 ] && grep -q '.pdf, .png or .svg' <<<'$out'"
out=$(ctl report --day 15.01.2026 -o "$tmp/x.pdf" 2>&1); rc=$?
check "a day it cannot read is a usage error ($out)" test "$rc" -eq 2
out=$(ctl report --day "$day" 2>&1); rc=$?
check "no output file is a usage error" test "$rc" -eq 2

# Behind the recorder's back: one temperature of the day changed.
sqlite3 "$db" "UPDATE record SET max = max + 100 WHERE seq = 100" || fail "sqlite3 UPDATE"
out=$(ctl report --day "$day" --unit SIM-000001 -o "$tmp/tampered.pdf"); rc=$?
check "the report of a tampered record is written ($out)" \
	bash -c "[ $rc -eq 0 ] && grep -q 'record NOT INTACT' <<<'$out'"
pdftotext -layout "$tmp/tampered.pdf" "$tmp/tampered.txt"
check "and says NOT INTACT, naming the row" grep -qE "Record NOT INTACT: record row 100 .*changed" "$tmp/tampered.txt"

echo "test_report: $failures failure(s)"
[ "$failures" -eq 0 ]
