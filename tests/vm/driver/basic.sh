#!/bin/bash
# Guest: coldroom.ko + coldroom_sim.ko end to end: units appear, direct
# firmware load from /lib/firmware, the sysfs fallback dance, plausible and
# changing readings, alarms and their events, poll(), strict sysfs parsing,
# fault injection, run-time units, a reproducible seed and `sensors`.
set -euo pipefail
. /usr/lib/vmtest/driver-lib.sh

mkdir -p "$FWDIR"
# Unit 0 (CRS-200 SIM-000000) has a blob in /lib/firmware; unit 1
# (CRS-210T SIM-000001) has none and is served through the fallback.
cp "$BLOBS/crs200.fw" "$FWDIR/CRS-200-SIM-000000.fw"

udevadm monitor --kernel --property --subsystem-match=coldroom >/tmp/uevents &
monitor=$!
sleep 1

echo "== load"
load_core
# No random door openings: thresholds below must not race one.
load_sim door_interval_s=0
check "class coldroom exists" test -d "$CLASS"
check "two units by default" test "$(ls "$CLASS" | wc -l)" -eq 2
s0=$(sensor_of SIM-000000) s1=$(sensor_of SIM-000001)
check "sensor0 is SIM-000000" test "$s0" = sensor0
check "unit 0 model CRS-200" test "$(attr "$s0" model)" = CRS-200
check "unit 1 model CRS-210T" test "$(attr "$s1" model)" = CRS-210T
check "firmware_name" test "$(attr "$s0" firmware_name)" = coldroom/CRS-200-SIM-000000.fw
check "parent is the simulator's platform device" \
	test "$(basename "$(readlink -f "$CLASS/$s0/device")")" = coldroom_sim.0
for f in serial model label temp1 temp2 temp1_alarm temp2_alarm sample_seq \
	sample_time_ns update_interval_ms temp1_min temp1_max temp2_min temp2_max \
	temp1_hyst temp2_hyst firmware_name firmware_state firmware_error \
	firmware_version firmware_reload; do
	[ -e "$CLASS/$s0/$f" ] || fail "attribute $f missing"
done
pass "all sysfs attributes present"
modes=$(cd "$CLASS/$s0" && stat -c '%n=%a' serial model label temp1 update_interval_ms temp1_min temp2_hyst firmware_reload firmware_state | xargs)
check "modes: config 0644, reload 0200, readings 0444 ($modes)" test "$modes" = \
	"serial=444 model=444 label=644 temp1=444 update_interval_ms=644 temp1_min=644 temp2_hyst=644 firmware_reload=200 firmware_state=444"

echo "== direct firmware load"
check "unit 0 ready from /lib/firmware" wait_for 30 state_is "$s0" ready
check "firmware_version 1.4.2" test "$(attr "$s0" firmware_version)" = 1.4.2
check "firmware_error empty" test -z "$(attr "$s0" firmware_error)"
check "blob label applied" test "$(attr "$s0" label)" = "Freezer A"
check "blob interval applied" test "$(attr "$s0" update_interval_ms)" = 500
check "blob thresholds applied" test "$(attr "$s0" temp1_min) $(attr "$s0" temp1_max) $(attr "$s0" temp1_hyst)" = "-24000 -12000 800"

echo "== before firmware: no made-up readings"
check "unit 1 is loading" state_is "$s1" loading
check "temp1 before firmware fails with ENODATA" bash -c "! cat $CLASS/$s1/temp1 2>/tmp/err; grep -q 'No data available' /tmp/err"
check "sample_seq 0 before firmware" test "$(attr "$s1" sample_seq)" = 0
check "firmware_version empty before ready" test -z "$(attr "$s1" firmware_version)"

echo "== the fallback dance"
dir=$(fallback_dir "$s1")
check "fallback directory $dir appears" wait_for 20 test -e "$dir/loading"
serve "$s1" "$BLOBS/crs210t.fw"
check "unit 1 ready through the fallback" wait_for 20 state_is "$s1" ready
check "fallback directory gone after loading" wait_for 20 test ! -e "$dir"
check "unit 1 label from its blob" test "$(attr "$s1" label)" = "Freezer B"
# A missing blob is the normal case of a unit that coldroomd serves: the
# /lib/firmware step is quiet (request_firmware_direct). The fallback
# request's own look at /lib/firmware warns once: 6.1 has no quiet form
# of request_firmware_nowait().
check "one 'Direct firmware load' warning for it, the fallback request's" \
	test "$(dmesg | grep -c 'Direct firmware load for coldroom/CRS-210T-SIM-000001.fw')" -eq 1

echo "== readings"
wait_for 10 attr_ge "$s0" sample_seq 3
t1=$(attr "$s0" temp1) t2=$(attr "$s0" temp2)
echo "sensor0: temp1=$t1 temp2=$t2"
check "temp1 is a cold-room air temperature (-25..-10 C): $t1" test "$t1" -ge -25000 -a "$t1" -le -10000
check "temp2 (coil) is colder than +5 C and above -40 C: $t2" test "$t2" -ge -40000 -a "$t2" -le 5000
echo 100 >"$CLASS/$s0/update_interval_ms"
seq0=$(attr "$s0" sample_seq)
values=""
for i in 1 2 3 4 5 6; do values+="$(attr "$s0" temp1) "; sleep 0.3; done
echo "temp1 over 2 s: $values"
check "readings change over time" test "$(echo "$values" | xargs -n1 | sort -u | wc -l)" -ge 3
check "sample_seq advances at 100 ms (>= 10 in 2 s)" test $(( $(attr "$s0" sample_seq) - seq0 )) -ge 10
monotonic_ns() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))'; }
ts1=$(attr "$s0" sample_time_ns); sleep 0.5
m1=$(monotonic_ns); ts2=$(attr "$s0" sample_time_ns); m2=$(monotonic_ns)
# The latest sample of a unit sampling every 100 ms: taken before the read
# and at most a second (a slow emulated guest) before it, on this clock.
check "sample_time_ns advances ($ts1 -> $ts2)" test "$ts2" -gt "$ts1"
check "sample_time_ns is CLOCK_MONOTONIC ($ts2 within [$m1 - 1 s, $m2])" \
	test "$ts2" -le "$m2" -a "$ts2" -ge $((m1 - 1000000000))

echo "== calibration from the blob is applied"
# The model only moves when a sample is taken: read a consistent snapshot.
for try in 1 2 3 4 5 6 7 8 9 10; do
	a=$(attr "$s0" sample_seq)
	room=$(sed -n 's/^room //p' "$SIMDBG/SIM-000000/model")
	t1=$(attr "$s0" temp1)
	b=$(attr "$s0" sample_seq)
	[ "$a" = "$b" ] && break
done
d=$((t1 - room))
check "temp1 = raw room air + the blob's +500 offset, within noise (delta $d)" test "$d" -ge 440 -a "$d" -le 560

echo "== poll() wakes on new samples"
# poll.py FILE COUNT TIMEOUT_MS [READY]: waits for COUNT sysfs_notify()
# wake-ups of FILE, each within TIMEOUT_MS; touches READY once armed.
cat >/tmp/poll.py <<'PY'
import select, sys
path, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
f = open(path)
f.read()
p = select.poll()
p.register(f, select.POLLPRI | select.POLLERR)
if len(sys.argv) > 4:
    open(sys.argv[4], "w").close()
woke = 0
for _ in range(count):
    if not p.poll(timeout):
        break
    woke += 1
    f.seek(0)
    f.read()
sys.exit(0 if woke == count else 1)
PY
check "poll() on sample_seq wakes per sample" python3 /tmp/poll.py "$CLASS/$s0/sample_seq" 3 3000
# poll_wakes FILE COMMAND...: poll() on FILE wakes when COMMAND has run.
poll_wakes() {
	local file=$1 pid
	shift
	rm -f /tmp/poll.ready
	python3 /tmp/poll.py "$file" 1 10000 /tmp/poll.ready &
	pid=$!
	wait_for 20 test -e /tmp/poll.ready || { kill "$pid"; return 1; }
	"$@"
	wait "$pid"
}

echo "== alarms"
check "no alarm at start" test "$(attr "$s0" temp1_alarm)" = 0
echo -21000 >"$CLASS/$s0/temp1_max"
check "temp1_alarm fires when above max" wait_for 5 attr_is "$s0" temp1_alarm 1
hw=$(ls -d /sys/devices/platform/coldroom_sim.0/hwmon/hwmon*)
check "hwmon temp1_alarm follows" test "$(cat "$hw/temp1_alarm")" = 1
echo -5000 >"$CLASS/$s0/temp1_max"
check "temp1_alarm clears back inside [min+hyst, max-hyst]" wait_for 5 attr_is "$s0" temp1_alarm 0
echo -5000 >"$CLASS/$s0/temp2_min"  # the coil is below -5 C: under min
check "temp2_alarm fires when below min" wait_for 5 attr_is "$s0" temp2_alarm 1
echo -45000 >"$CLASS/$s0/temp2_min"
check "temp2_alarm clears" wait_for 5 attr_is "$s0" temp2_alarm 0
echo 1000 >"$CLASS/$s0/temp1_max"; echo -1000 >"$CLASS/$s0/temp1_min"   # -18 C is below min
check "alarm again below temp1_min" wait_for 5 attr_is "$s0" temp1_alarm 1
echo 500 >"$CLASS/$s0/temp1_hyst"
echo -24000 >"$CLASS/$s0/temp1_min"; echo -12000 >"$CLASS/$s0/temp1_max"
check "and clears" wait_for 5 attr_is "$s0" temp1_alarm 0
check "poll() on temp1_alarm wakes when the alarm is raised" \
	poll_wakes "$CLASS/$s0/temp1_alarm" sh -c "echo -21000 >$CLASS/$s0/temp1_max"
check "and when it clears" \
	poll_wakes "$CLASS/$s0/temp1_alarm" sh -c "echo -12000 >$CLASS/$s0/temp1_max"
# A reload clears the alarm with the old blob's readings; the listener
# that saw it raised must see it cleared, as the unit leaves "ready" for
# "pending" (the blob's thresholds, -12000 again, do not raise it anew).
echo -21000 >"$CLASS/$s0/temp1_max"
check "an alarm is raised before the reload" wait_for 5 attr_is "$s0" temp1_alarm 1
udevadm monitor --kernel --property --subsystem-match=coldroom >/tmp/reload-uevents &
reload_monitor=$!
sleep 1
check "poll() on firmware_state wakes on a reload" \
	poll_wakes "$CLASS/$s0/firmware_state" sh -c "echo 1 >$CLASS/$s0/firmware_reload"
check "the unit is ready again after the reload" wait_for 10 state_is "$s0" ready
sleep 1
kill "$reload_monitor"
# One line per uevent of sensor0: its firmware state or its alarm change.
awk -v dev="/$s0" 'BEGIN { RS = "" }
	index($0, "DEVPATH=") && $0 ~ ("DEVPATH=[^\n]*" dev "\n") {
		ev = ""
		if (match($0, /COLDROOM_FIRMWARE_STATE=[a-z]+/)) ev = substr($0, RSTART, RLENGTH)
		if (match($0, /COLDROOM_CHANNEL=[12]/)) ev = substr($0, RSTART, RLENGTH)
		if (ev ~ /CHANNEL/ && match($0, /COLDROOM_ALARM=[01]/)) ev = ev " " substr($0, RSTART, RLENGTH)
		if (ev != "") print ev
	}' /tmp/reload-uevents >/tmp/reload-events
cat /tmp/reload-events
check "the alarm's clear is announced as the unit leaves ready" \
	test "$(tr '\n' ';' </tmp/reload-events)" = \
	"COLDROOM_FIRMWARE_STATE=pending;COLDROOM_CHANNEL=1 COLDROOM_ALARM=0;COLDROOM_FIRMWARE_STATE=loading;COLDROOM_FIRMWARE_STATE=ready;"
check "temp1_alarm is 0 after the reload" attr_is "$s0" temp1_alarm 0

echo "== uevents"
sleep 1
kill "$monitor"
grep -q . /tmp/uevents || die "no uevents recorded"
check "firmware-request uevent names the firmware and fallback path" bash -c \
	"grep -A12 'COLDROOM_EVENT=firmware-request' /tmp/uevents | grep -q 'COLDROOM_FIRMWARE_SYSFS=/sys/class/firmware/coldroom!CRS-210T-SIM-000001.fw'"
check "firmware-request carries COLDROOM_FIRMWARE" grep -q 'COLDROOM_FIRMWARE=coldroom/CRS-210T-SIM-000001.fw' /tmp/uevents
# It asks user space for the blob: a unit served from /lib/firmware never does.
check "no firmware-request for the unit whose blob is in /lib/firmware" \
	bash -c "! grep -q 'COLDROOM_FIRMWARE=coldroom/CRS-200-SIM-000000.fw' /tmp/uevents"
check "firmware-state uevents: loading and ready" bash -c \
	"grep -q COLDROOM_FIRMWARE_STATE=loading /tmp/uevents && grep -q COLDROOM_FIRMWARE_STATE=ready /tmp/uevents"
check "alarm uevents: channel 1 set and cleared" bash -c \
	"grep -A3 COLDROOM_EVENT=alarm /tmp/uevents | grep -q COLDROOM_ALARM=1 && grep -A3 COLDROOM_EVENT=alarm /tmp/uevents | grep -q COLDROOM_ALARM=0"
check "alarm uevent for channel 2" grep -q COLDROOM_CHANNEL=2 /tmp/uevents
check "add uevent carries model and serial" grep -q COLDROOM_SERIAL=SIM-000001 /tmp/uevents

echo "== every bad write is EINVAL and changes nothing"
S=$CLASS/$s0
# The blob's rule (coldroom_fw_check_label): no space at either end either.
for v in $'\n' "$(printf 'x%.0s' {1..33})" $'bad\x01label' $'two\n\n' $'tab\there' \
	" lead" "trail " " " $'trail \n'; do
	expect_einval "$S/label" "$v"
done
echo "A label of 32 chars is fine!...." >"$S/label"
check "32-char label accepted, newline stripped" test "$(attr "$s0" label)" = "A label of 32 chars is fine!...."
for v in 99 3600001 -1 abc 100x " 100" 1e3 0x64 4294967396; do
	expect_einval "$S/update_interval_ms" "$v"
done
for f in temp1_min temp1_max temp2_min temp2_max; do
	for v in -60001 60001 x 1.5 2147483648 "5 5" 100000000000; do
		expect_einval "$S/$f" "$v"
	done
done
expect_einval "$S/temp1_min" "$(attr "$s0" temp1_max)"      # min == max
expect_einval "$S/temp1_min" 0                               # min > max
expect_einval "$S/temp1_max" "$(attr "$s0" temp1_min)"      # max == min
expect_einval "$S/temp2_max" -50000                          # max < min
# The clear band [min+hyst, max-hyst] must stay non-empty, or an alarm
# once raised never clears: temp1 is the blob's -24000..-12000, hysteresis
# 800, again since the reload.
check "temp1 thresholds before the clear-band writes" \
	test "$(attr "$s0" temp1_min) $(attr "$s0" temp1_max) $(attr "$s0" temp1_hyst)" = "-24000 -12000 800"
expect_einval "$S/temp1_hyst" 6000                           # band -18000..-18000
expect_einval "$S/temp1_hyst" 9000                           # band empty
expect_einval "$S/temp1_min" -13000                          # band -12500..-12500
expect_einval "$S/temp1_max" -23500                          # band empty
echo 5999 >"$S/temp1_hyst"
check "the widest hysteresis that leaves a clear band is accepted" attr_is "$s0" temp1_hyst 5999
echo 500 >"$S/temp1_hyst"
for f in temp1_hyst temp2_hyst; do
	for v in -1 10001 y " 1"; do expect_einval "$S/$f" "$v"; done
done
for v in 0 2 -1 yes " 1" 1x; do
	before=$(attr "$s0" firmware_state)
	if printf '%s' "$v" >"$S/firmware_reload" 2>/dev/null; then
		fail "firmware_reload accepted '$v'"
	elif [ "$(attr "$s0" firmware_state)" != "$before" ]; then
		fail "bad firmware_reload '$v' changed the state"
	else
		pass "EINVAL, no reload: '$v' > firmware_reload"
	fi
done
expect_einval "$hw/temp1_max" 70000
expect_einval "$hw/temp1_max" "$(cat "$hw/temp1_min")"
expect_einval "$hw/temp1_max" -23000                         # hwmon: no clear band
expect_einval "$hw/temp1_min" -13000
expect_einval "$SIMDRV/new_device" CRS-999
expect_einval "$SIMDRV/new_device" "CRS-200 bad/serial"
expect_einval "$SIMDRV/new_device" "CRS-200 waytoolongserial12345"
expect_einval "$SIMDRV/new_device" $'\n'
check "read-only files refuse writes" bash -c "! echo 1 2>/dev/null >$S/temp1 && ! echo X 2>/dev/null >$S/serial"
check "a non-root user cannot write the config" bash -c \
	"! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'echo 1000 > $S/update_interval_ms' 2>/dev/null"

echo "== fault injection"
echo 1 >"$SIMDBG/SIM-000000/disconnect"
sleep 0.5
check "disconnected probe 1: temp1 fails with EIO" bash -c "! cat $S/temp1 2>/tmp/err; grep -q 'Input/output error' /tmp/err"
check "probe 2 still reads" cat "$S/temp2"
check "hwmon temp1_input fails too" bash -c "! cat $hw/temp1_input 2>/dev/null"
echo 0 >"$SIMDBG/SIM-000000/disconnect"
check "reconnected: temp1 reads again" wait_for 5 cat "$S/temp1"
echo 2 >"$SIMDBG/SIM-000000/stuck"
sleep 0.3
vals=""; vals1=""
for i in 1 2 3 4 5; do vals+="$(attr "$s0" temp2) "; vals1+="$(attr "$s0" temp1) "; sleep 0.25; done
check "stuck probe 2 repeats one value ($vals)" test "$(echo "$vals" | xargs -n1 | sort -u | wc -l)" -eq 1
check "probe 1 keeps moving ($vals1)" test "$(echo "$vals1" | xargs -n1 | sort -u | wc -l)" -ge 2
echo 0 >"$SIMDBG/SIM-000000/stuck"
room0=$(sed -n 's/^room //p' "$SIMDBG/SIM-000000/model")
echo 20000 >"$SIMDBG/SIM-000000/door_open_ms"
sleep 5
room1=$(sed -n 's/^room //p' "$SIMDBG/SIM-000000/model")
check "an open door warms the room ($room0 -> $room1 mdeg in 5 s)" test $((room1 - room0)) -ge 400
cat "$SIMDBG/SIM-000000/model"
interval0=$(attr "$s0" update_interval_ms)
echo 1 >"$SIMDBG/SIM-000000/fail_start"
check "an interval the unit refuses fails the write with EIO" bash -c \
	"! echo 2000 2>/tmp/err >$S/update_interval_ms; grep -q 'Input/output error' /tmp/err"
check "and the old interval ($interval0 ms) stays" attr_is "$s0" update_interval_ms "$interval0"
seq0=$(attr "$s0" sample_seq)
check "the unit keeps sampling at it" wait_for 5 attr_ge "$s0" sample_seq $((seq0 + 3))
echo 0 >"$SIMDBG/SIM-000000/fail_start"
echo 2000 >"$S/update_interval_ms"
check "once the unit takes it, the interval is set" attr_is "$s0" update_interval_ms 2000
echo "$interval0" >"$S/update_interval_ms"

echo "== hwmon and sensors"
check "hwmon name coldroom" test "$(cat "$hw/name")" = coldroom
check "hwmon labels" test "$(cat "$hw/temp1_label") $(cat "$hw/temp2_label")" = "air coil"
check "hwmon temp1_input is a reading" bash -c "cat $hw/temp1_input | grep -Eq '^-?[0-9]+$'"
sensors 2>&1 | tee /tmp/sensors.txt
check "sensors lists coldroom-isa-0000" grep -q '^coldroom-isa-0000' /tmp/sensors.txt
check "sensors lists coldroom-isa-0001" grep -q '^coldroom-isa-0001' /tmp/sensors.txt
check "sensors shows air and coil in C" bash -c "grep -Eq '^air: +-[0-9.]+°?C' /tmp/sensors.txt && grep -Eq '^coil: +[-+]?[0-9.]+°?C' /tmp/sensors.txt"

echo "== units at run time"
before=$(ls "$CLASS" | wc -l)
echo CRS-210T >"$SIMDRV/new_device"
echo "CRS-200 SITE-42" >"$SIMDRV/new_device"
check "two units added" test "$(ls "$CLASS" | wc -l)" -eq $((before + 2))
s2=$(sensor_of SIM-000002) s3=$(sensor_of SITE-42)
check "added unit has the next serial and its model" test "$(attr "$s2" model)" = CRS-210T
check "added unit with a chosen serial" test "$(attr "$s3" model)" = CRS-200
check "added units ask for their firmware" wait_for 20 test -e "$(fallback_dir "$s3")/loading"
check "a serial in use is refused (EEXIST)" bash -c "echo 'CRS-200 SITE-42' 2>&1 >$SIMDRV/new_device | grep -q 'File exists'"
check "debugfs directory of the new unit" test -d "$SIMDBG/SITE-42"
serve "$s3" "$BLOBS/crs200.fw"
check "added unit ready" wait_for 20 state_is "$s3" ready
echo SITE-42 >"$SIMDRV/del_device"
echo SIM-000002 >"$SIMDRV/del_device"
check "units removed" test "$(ls "$CLASS" | wc -l)" -eq "$before"
check "removed unit's debugfs gone" test ! -e "$SIMDBG/SITE-42"
check "del_device of an unknown serial is ENODEV" bash -c "echo NOPE 2>&1 >$SIMDRV/del_device | grep -q 'No such device'"

echo "== seed makes the simulation reproducible"
unload_all
model_of() { load_core; load_sim door_interval_s=0 "$@"; cat "$SIMDBG/SIM-000001/model"; unload_all; }
a=$(model_of seed=7) b=$(model_of seed=7) c=$(model_of seed=8)
echo "seed=7: $(echo $a)"; echo "seed=8: $(echo $c)"
check "same seed, same initial state" test "$a" = "$b"
check "another seed, another state" test "$a" != "$c"
kill "$monitor" 2>/dev/null || true

finish
