#!/bin/bash
# coldroomctl history and report against coldroom-recorder on a private
# bus, with a day of record written by the product's own writer
# (record_fill): the PDF has a page per unit and says what happened (the
# alarm, who acknowledged it, the gap, the verdict, an overdue calibration),
# the PNG and SVG are the same drawing, bad requests are refused, and a
# record edited behind the recorder's back makes the report say NOT INTACT.
# The mean kinetic temperature (history, the report, Recorder1, the metrics
# page) against the formula worked out here from the rows, its activation
# energy in the audit trail; the excursion report as CSV (parsed) and PDF
# (pdftotext), its manifest, and verify-export catching an edited export
# and an edited record.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, RECORDER,
# METRICS, RECORD_FILL.
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
# The MKT of the day, from the recorder's sums, against the formula
# worked out here from the rows themselves (probe 1: 23 h of data, the
# hour at 14:00 without).
mkt_rows() {
	python3 - "$db" "$1" "$2" "$3" "${4:-83144}" <<'PY'
import math, sqlite3, sys
db, probe, since, until = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
a, num, w = int(sys.argv[5]) / 8.3144598, 0.0, 0.0
for s, e, n, mean in sqlite3.connect(db).execute(
        "SELECT start_us, end_us, n, mean FROM record WHERE serial = 'SIM-000001' "
        "AND probe = ? AND start_us < ? AND end_us > ?", (probe, until, since)):
    if n:
        t = (min(e, until) - max(s, since)) / 1e6
        num += t * math.exp(-a / (mean / 1000 + 273.15))
        w += t
print("%.3f %.2f" % ((a / -math.log(num / w) - 273.15,) * 2))
PY
}
d0=$(($(date -u -d "$day" +%s) * 1000000)); d1=$((d0 + 86400000000))
out=$(ctl history sensor0 --since "$day" --until "$(date -u -d "$day + 1 day" +%F)"); rc=$?
read -r want1 pdf1 < <(mkt_rows 1 $d0 $d1); read -r want2 pdf2 < <(mkt_rows 2 $d0 $d1)
check "history of the day: exit status 0 ($rc)" test "$rc" -eq 0
check "history: probe 1's MKT of the day, $want1 C, with the hour without data" \
	grep -qE "^ +1 $day 00:00:00 .* $want1 23 h 00 min +1 h 00 min \\(the time shown\\)" <<<"$out"
check "history: probe 2's, $want2 C, the probe fault counted as without data" \
	grep -qE "^ +2 $day 00:00:00 .* $want2 22 h 40 min +1 h 20 min" <<<"$out"
check "history: 30 days up to the end, the days before the record without data" \
	grep -qE "^ +1 [0-9-]+ 00:00:00 .* $want1 23 h 00 min +29 d 1 h \\(30 days\\)" <<<"$out"
out=$(rec_call GetMeanKineticTemperaturePage sutttt SIM-000001 3 0 1000 0 0); rc=$?
check "GetMeanKineticTemperaturePage of probe 3: invalid arguments ($out)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'probe must be 1 or 2' <<<'$out'"
out=$(rec_call GetMeanKineticTemperaturePage sutttt SIM-000001 1 $d1 $d0 0 0); rc=$?
check "GetMeanKineticTemperaturePage backwards: invalid arguments ($out)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'since must be before until' <<<'$out'"
# The day's sums page after page (as many as the recorder's time per call
# makes): 23 h of data, the hour at 14:00 without, nothing missing.
data=0 nodata=0 missing=0 pages=0 after_start=0 after_seq=0 more=true
while [ "$more" = true ] && [ "$pages" -lt 100 ]; do
	reply=$(rec_call GetMeanKineticTemperaturePage sutttt SIM-000001 1 $d0 $d1 "$after_start" "$after_seq") ||
		{ fail "GetMeanKineticTemperaturePage: $reply"; break; }
	read -r _ d _ nd m _ _ _ _ more after_start after_seq <<<"$reply"
	data=$((data + d)) nodata=$((nodata + nd)) missing=$((missing + m)) pages=$((pages + 1))
done
check "GetMeanKineticTemperaturePage: the day's sums in $pages page(s) ($data, $nodata, $missing us)" \
	test "$data" -eq 82800000000 -a "$nodata" -eq 3600000000 -a "$missing" -eq 0 -a "$more" = false

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
check "each probe's MKT of the day ($pdf1, $pdf2 °C) and of 30 days" \
	bash -c "grep -qF 'MKT of the day $pdf1 °C' '$tmp/day.txt' && grep -qF 'MKT of the day $pdf2 °C' '$tmp/day.txt' && grep -qF 'MKT of 30 days $pdf1 °C' '$tmp/day.txt' && grep -qF '(30 days: 697 h 00 min no data)' '$tmp/day.txt'"
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

# The excursion report of the day: CSV and PDF, each with its manifest.
out=$(ctl report --excursions --since "$day" --until "$(date -u -d "$day + 1 day" +%F)" -o "$tmp/exc.csv"); rc=$?
check "report --excursions -o CSV ($out)" bash -c "[ $rc -eq 0 ] && grep -q '1 excursion, 2 units' <<<'$out'"
# The door left open: probe 1 of SIM-000001 above -12 C. Its peak and MKT
# from the rows themselves, and the alarm's entries with who and the comment.
python3 - "$tmp/exc.csv" "$db" <<'PY' >"$tmp/exc.check" 2>&1
import csv, math, sqlite3, sys
rows = list(csv.DictReader(open(sys.argv[1])))
exc = [r for r in rows if r["kind"] == "excursion"]
alarms = [r for r in rows if r["kind"] == "alarm"]
days = [r for r in rows if r["kind"] == "day"]
assert len(exc) == 1 and len(days) == 4, (len(exc), len(days))
x = exc[0]
assert (x["serial"], x["unit"], x["probe"]) == ("SIM-000001", "sensor0", "1"), x
assert (x["start"], x["end"], x["duration_s"]) == ("2026-01-15T10:05:00Z", "2026-01-15T10:40:00Z", "2100"), x
assert (x["band_min_c"], x["band_max_c"]) == ("-22.000", "-12.000"), x
db = sqlite3.connect(sys.argv[2])
q = ("SELECT max, mean FROM record WHERE serial = 'SIM-000001' AND probe = 1 "
     "AND start_us >= 1768471500000000 AND start_us < 1768473600000000")
sel = db.execute(q).fetchall()
assert len(sel) == 35 and all(m > -12000 for m, _ in sel), sel
assert x["peak_c"] == "%.3f" % (max(m for m, _ in sel) / 1000), x["peak_c"]
a = 83144 / 8.3144598
mkt = a / -math.log(sum(math.exp(-a / (m / 1000 + 273.15)) for _, m in sel) / len(sel)) - 273.15
assert x["mkt_c"] == "%.3f" % mkt and x["data_s"] == "2100" and x["no_data_s"] == "0", (x, mkt)
assert [r["event"] for r in alarms] == ["alarm-raised", "alarm-escalated", "alarm-acknowledged", "alarm-cleared"], alarms
ack = alarms[2]
assert ack["user"] == "operator1" and ack["detail"] == "alarm 1, level 2: door closed, stock checked; signed by Olga Operator (operator1), meaning: acknowledged", ack
assert ack["time"] == "2026-01-15T10:21:20Z" and ack["reading_c"] == "-5.014", ack
d = [r for r in days if r["serial"] == "SIM-000001" and r["probe"] == "1"][0]
assert (d["duration_s"], d["data_s"], d["no_data_s"]) == ("2100", "82800", "3600"), d
print("ok")
PY
check "the CSV: the excursion, its peak and MKT from the rows, the alarm's entries, the days ($(cat "$tmp/exc.check"))" \
	grep -qx ok "$tmp/exc.check"
check "the CSV's manifest: its SHA-256, the chain heads, the command" \
	bash -c "grep -qx 'sha256: $(sha256sum "$tmp/exc.csv" | cut -d' ' -f1)' '$tmp/exc.csv.manifest' &&
		 grep -qE '^record_head: [0-9]+ [0-9a-f]{64}\$' '$tmp/exc.csv.manifest' &&
		 grep -qE '^audit_head: [0-9]+ [0-9a-f]{64} [0-9]+\$' '$tmp/exc.csv.manifest' &&
		 grep -q '^command: coldroomctl report --excursions' '$tmp/exc.csv.manifest'"
out=$(ctl report --excursions --since "$day" --until "$(date -u -d "$day + 1 day" +%F)" --unit sensor0 -o "$tmp/exc.pdf"); rc=$?
check "report --excursions -o PDF of one unit ($out)" bash -c "[ $rc -eq 0 ] && [ -s '$tmp/exc.pdf.manifest' ]"
pdftotext -layout "$tmp/exc.pdf" "$tmp/exc.txt"
check "the PDF: the excursion with its times" \
	grep -qF "Freezer A (serial SIM-000001, unit sensor0), probe 1: 2026-01-15 10:05:00 to 10:40:00 (0 h 35 min)" "$tmp/exc.txt"
check "the PDF: its peak, band and MKT" grep -qE "peak -4.37 °C, band -22.0 .. -12.0 °C, MKT over it -?[0-9]+\.[0-9]{2} °C" "$tmp/exc.txt"
check "the PDF: who acknowledged, and the comment" \
	grep -qF "alarm-acknowledged at -5.0 °C by operator1 — alarm 1, level 2: door closed, stock checked; signed by Olga Operator (operator1), meaning: acknowledged" "$tmp/exc.txt"
check "the PDF: the day's time out of band" grep -qE "^ *2026-01-15 +1 +0 h 35 min +1 h 00 min" "$tmp/exc.txt"
check "the PDF: the chain heads it was made from" grep -qE "Made from the record's rows up to [0-9]+ \(hash [0-9a-f]{16}" "$tmp/exc.txt"
out=$(ctl record verify-export "$tmp/exc.csv"); rc=$?
check "verify-export of the CSV: it matches ($out)" bash -c "[ $rc -eq 0 ] && grep -q 'matches the record (1 excursion' <<<'$out'"
out=$(ctl record verify-export "$tmp/exc.pdf"); rc=$?
check "verify-export of the PDF, drawn again byte for byte ($out)" bash -c "[ $rc -eq 0 ] && grep -q 'matches the record' <<<'$out'"
cp "$tmp/exc.csv" "$tmp/edited.csv"; cp "$tmp/exc.csv.manifest" "$tmp/edited.csv.manifest"
sed -i 's/operator1/operator2/' "$tmp/edited.csv"
out=$(ctl record verify-export "$tmp/edited.csv"); rc=$?
check "an export edited after it was made: CHANGED, exit status 7 ($out)" \
	bash -c "[ $rc -eq 7 ] && grep -q 'CHANGED since it was exported' <<<'$out'"
sha=$(sha256sum "$tmp/edited.csv" | cut -d' ' -f1)
sed -i "s/^sha256: .*/sha256: $sha/" "$tmp/edited.csv.manifest"
out=$(ctl record verify-export "$tmp/edited.csv"); rc=$?
check "and with its manifest's hash forged too: DIFFERS, naming the line ($out)" \
	bash -c "[ $rc -eq 7 ] && grep -q 'DIFFERS from the record' <<<'$out' && grep -q 'the export says .*operator2' <<<'$out' && grep -q 'the record says .*operator1' <<<'$out'"
rm "$tmp/edited.csv.manifest"
out=$(ctl record verify-export "$tmp/edited.csv" 2>&1); rc=$?
check "an export without its manifest: exit status 1 ($out)" bash -c "[ $rc -eq 1 ] && grep -q 'edited.csv.manifest' <<<'$out'"
out=$(ctl report --excursions --since "$day" --until "$(date -u -d "$day + 1 day" +%F)" --unit SIM-000009 -o "$tmp/gone.csv"); rc=$?
check "a unit coldroomd does not know: its band is not known, not 0 out of band ($out)" \
	bash -c "[ $rc -eq 0 ] && grep -qx 'day,SIM-000009,,,1,2026-01-15T00:00:00Z,2026-01-16T00:00:00Z,,,,,,0,86400,,,,,,,,' '$tmp/gone.csv'"
# A label a spreadsheet would run as a formula is kept as text.
ctl set sensor1 'label==HYPERLINK("http://x","y")' >/dev/null || fail "coldroomctl set label"
out=$(ctl report --excursions --since "$day" --until "$(date -u -d "$day + 1 day" +%F)" --unit sensor1 -o "$tmp/formula.csv"); rc=$?
check "a label like a formula is quoted as text in the CSV ($out)" \
	bash -c "[ $rc -eq 0 ] && grep -qF 'day,SIM-000002,sensor1,\"'\''=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1,' '$tmp/formula.csv'"
ctl set sensor1 'label=Room sensor1' >/dev/null || fail "coldroomctl set label"
# The band changed since: the excursion is still out of the band in force then.
ctl set sensor0 temp1.min=-30C temp1.max=-25C >/dev/null || fail "coldroomctl set band"
out=$(ctl report --excursions --since "$day" --until "$(date -u -d "$day + 1 day" +%F)" --unit sensor0 -o "$tmp/later.csv"); rc=$?
check "after a band change: the band in force then (-22 .. -12), not now ($out)" \
	bash -c "[ $rc -eq 0 ] && [ \$(grep -c '^excursion,' '$tmp/later.csv') -eq 1 ] &&
		 grep -q '^excursion,SIM-000001,sensor0,Freezer A,1,2026-01-15T10:05:00Z,2026-01-15T10:40:00Z,2100,-4.365,-22.000,-12.000,' '$tmp/later.csv'"
ctl set sensor0 temp1.min=-22C temp1.max=-12C >/dev/null || fail "coldroomctl set band"
out=$(ctl report --excursions -o "$tmp/exc.png" 2>&1); rc=$?
check "an excursion report as an image is a usage error ($out)" bash -c "[ $rc -eq 2 ] && grep -q '.csv or .pdf' <<<'$out'"
out=$(ctl report --excursions --since "$day 12:00" --until "$day 11:00" -o "$tmp/x.csv" 2>&1); rc=$?
check "--since after --until is a usage error ($out)" test "$rc" -eq 2

# The site's activation energy changed: in the audit trail once, who not
# known, and in force for the MKT the recorder sums.
mkt_restart() {
	kill "$recorder_pid"; wait "$recorder_pid"
	"$RECORDER" --bus "$addr" --config "$tmp/coldroom.conf" --database "$db" 2>>"$tmp/recorder.log" &
	recorder_pid=$!
	wait_for 20 bus_has_name org.coldroom.Recorder1
}
mkt_entries() { sqlite3 "$db" "SELECT old_value, new_value FROM audit WHERE event = 'setting-changed' AND what = 'MKTActivationEnergy'"; }
check "the default activation energy leaves no entry" test -z "$(mkt_entries)"
printf 'MKTActivationEnergy=60000\n' >>"$tmp/coldroom.conf"
mkt_restart
check "a new activation energy is in the audit trail ($(mkt_entries))" test "$(mkt_entries)" = "83144|60000"
out=$(busctl --address="$addr" get-property org.coldroom.Recorder1 /org/coldroom/Recorder1 \
	org.coldroom.Recorder1 MKTActivationEnergy)
check "and in MKTActivationEnergy ($out)" test "$out" = "u 60000"
out=$(ctl history sensor0 --since "$day 10:00" --until "$day 11:00")
check "history says the dH its MKT is over" grep -q "dH 60.000 kJ/mol" <<<"$out"
mkt_restart
check "the same value again adds no entry ($(mkt_entries))" test "$(mkt_entries)" = "83144|60000"
out=$(printf 'MKTActivationEnergy=83.1\n' >"$tmp/bad.conf"; "$RECORDER" --bus "$addr" --config "$tmp/bad.conf" --database "$db" 2>&1); rc=$?
check "an activation energy in kJ/mol is refused ($out)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'MKTActivationEnergy' <<<'$out' && [ '$(mkt_entries)' = '83144|60000' ]"

# Behind the recorder's back: one temperature of the day changed.
sqlite3 "$db" "UPDATE record SET max = max + 100 WHERE seq = 100" || fail "sqlite3 UPDATE"
out=$(ctl report --day "$day" --unit SIM-000001 -o "$tmp/tampered.pdf"); rc=$?
check "the report of a tampered record is written ($out)" \
	bash -c "[ $rc -eq 0 ] && grep -q 'record NOT INTACT' <<<'$out'"
pdftotext -layout "$tmp/tampered.pdf" "$tmp/tampered.txt"
check "and says NOT INTACT, naming the row" grep -qE "Record NOT INTACT: record row 100 .*changed" "$tmp/tampered.txt"
out=$(ctl record verify-export "$tmp/exc.csv"); rc=$?
check "verify-export of a tampered record outside the export: NOT INTACT, exit status 7 ($out)" \
	bash -c "[ $rc -eq 7 ] && grep -q 'matches the record, but the record is NOT INTACT: record row 100' <<<'$out'"
# The excursion's peak lowered behind the recorder's back.
sqlite3 "$db" "UPDATE record SET max = max - 1000 WHERE serial = 'SIM-000001' AND probe = 1 AND max = (SELECT max(max) FROM record WHERE serial = 'SIM-000001' AND probe = 1)" ||
	fail "sqlite3 UPDATE"
for f in exc.csv exc.pdf; do
	out=$(ctl record verify-export "$tmp/$f"); rc=$?
	check "verify-export of the $f after the peak was changed: DIFFERS, naming it ($out)" \
		bash -c "[ $rc -eq 7 ] && grep -q 'DIFFERS from the record' <<<'$out' && grep -q 'the export says .*,-4.365,' <<<'$out' && grep -q 'the record says .*,-4.447,' <<<'$out'"
done

# The metrics page's MKT: a record whose day is two days ago, so that it
# lies whole in the 30 days up to now, whatever the time of day.
kill "$recorder_pid"; wait "$recorder_pid"
recent=$(date -u -d "2 days ago" +%F)
db=$tmp/recent.db
"$RECORD_FILL" "$db" "$(date -u -d "$recent" +%s)" SIM-000001 SIM-000002 || fail "record_fill"
"$RECORDER" --bus "$addr" --config "$tmp/coldroom.conf" --database "$db" 2>>"$tmp/recorder.log" &
recorder_pid=$!
wait_for 20 bus_has_name org.coldroom.Recorder1
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$METRICS" --bus "$addr" --listen "127.0.0.1:$port" 2>"$tmp/metrics.log" &
extra_pids=$!
page() { curl -sS --max-time 20 "http://127.0.0.1:$port/metrics" 2>/dev/null; }
# The first scrape starts the refresh from the recorder; a later one shows it.
series='coldroom_mkt_no_data_seconds{serial="SIM-000002",unit="sensor1",label="Room sensor1",probe="2",window="30d"}'
wait_for 60 bash -c "curl -sS --max-time 20 'http://127.0.0.1:$port/metrics' | grep -qF '$series'"
p=$(page)
r0=$(($(date -u -d "$recent" +%s) * 1000000)); r1=$((r0 + 86400000000))
read -r want1 _ < <(mkt_rows 1 $r0 $r1 60000)
got1=$(sed -n 's/^coldroom_mkt_celsius{serial="SIM-000001",unit="sensor0",label="Freezer A",probe="1",window="30d"} //p' <<<"$p")
check "metrics: probe 1's MKT over 30 days is the day's, $want1 C ($got1)" \
	python3 -c "import sys; sys.exit(abs(float('$got1' or 'nan') - $want1) > 0.0015)"
check "metrics: beside it the 30 days less the 23 h of data" \
	grep -qxF 'coldroom_mkt_no_data_seconds{serial="SIM-000001",unit="sensor0",label="Freezer A",probe="1",window="30d"} 2509200' <<<"$p"
check "metrics: probe 2 (the fault: 22 h 40 min of data)" \
	grep -qxF "$series 2510400" <<<"$p"
check "metrics: the activation energy in force" \
	grep -qxF 'coldroom_mkt_activation_energy_joules_per_mole 60000' <<<"$p"
printf '%s\n' "$p" >"$tmp/page"
out=$(promtool check metrics <"$tmp/page" 2>&1); rc=$?
check "metrics: promtool finds the page valid ($out)" test "$rc" -eq 0

echo "test_report: $failures failure(s)"
[ "$failures" -eq 0 ]
