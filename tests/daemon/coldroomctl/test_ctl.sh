#!/bin/bash
# coldroomctl against coldroomd on a fake sysfs tree and a private bus:
# output, --json, and the exit status of every kind of failure.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, FW_BLOBS,
# FW_SAMPLES; the shipped introspection XML is checked against the daemon.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
xml=$here/../../../daemon/coldroomd/org.coldroom.Sensors1.xml
tmp=$(mktemp -d "${TMPDIR:-/tmp}/coldroomctl-test.XXXXXX")
bus_pid= daemon_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
	[ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# expect STATUS DESCRIPTION COMMAND...: the command exits with STATUS.
out=
expect() {
	local want=$1 what=$2 got
	shift 2
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" = "$want" ]; then pass "$what"; else
		fail "$what: exit $got, expected $want"; printf '%s\n' "$out" | sed 's/^/    /'; fi
}
contains() { # contains DESCRIPTION TEXT: the last output contains TEXT
	if grep -qF -- "$2" <<<"$out"; then pass "$1"; else
		fail "$1: no '$2' in:"; printf '%s\n' "$out" | sed 's/^/    /'; fi
}

sys=$tmp/sys
unit() { # unit NAME MODEL SERIAL
	local d=$sys/class/coldroom/$1 c
	mkdir -p "$d"
	echo "$3" >"$d/serial"; echo "$2" >"$d/model"; echo "Room $1" >"$d/label"
	echo -18250 >"$d/temp1"; echo 4500 >"$d/temp2"
	echo 0 >"$d/temp1_alarm"; echo 1 >"$d/temp2_alarm"
	echo 3 >"$d/sample_seq"; echo 1000 >"$d/sample_time_ns"; echo 1000 >"$d/update_interval_ms"
	for c in 1 2; do echo -25000 >"$d/temp${c}_min"; echo -15000 >"$d/temp${c}_max"; echo 500 >"$d/temp${c}_hyst"; done
	echo "coldroom/$2-$3.fw" >"$d/firmware_name"; echo pending >"$d/firmware_state"
	: >"$d/firmware_error"; : >"$d/firmware_version"; : >"$d/firmware_reload"
	mkdir -p "$sys/class/firmware/coldroom!$2-$3.fw"
	: >"$sys/class/firmware/coldroom!$2-$3.fw/loading"; : >"$sys/class/firmware/coldroom!$2-$3.fw/data"
}
mkdir -p "$sys/class/coldroom" "$tmp/model" "$tmp/override" "$tmp/calibration"
unit sensor0 CRS-200 SIM-000001
unit sensor1 CRS-210T SIM-000002
cp "$FW_BLOBS/CRS-200.fw" "$tmp/model/"
cat >"$tmp/coldroomd.conf" <<CONF
FirmwareOverrideDir=$tmp/override
ModelFirmwareDir=$tmp/model
CalibrationDir=$tmp/calibration
CONF
chmod 755 "$tmp"
start_private_bus "$tmp" || { echo "test_ctl: no dbus-daemon"; exit 1; }
"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroomd.conf" 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do ctl list >/dev/null 2>&1 && break; sleep 0.1; done

expect 0 "list" ctl list
contains "list shows a reading in degrees" "-18.25°C"
contains "list shows the alarm" "temp2"
contains "list shows why a unit has no firmware" "no firmware for model CRS-210T"
expect 0 "list --json" ctl --json list
if command -v python3 >/dev/null; then
	if python3 -c 'import json,sys; u=json.load(sys.stdin); assert u[0]["temp1"]==-18250 and u[1]["temp2_alarm"] is True' <<<"$out"
	then pass "list --json is JSON with the values"; else fail "list --json: $out"; fi
fi
expect 0 "show by name" ctl show sensor0
contains "show: source" "Source:    $tmp/model/CRS-200.fw"
expect 0 "show by serial" ctl show SIM-000002
contains "show: error" "Error:     no firmware for model CRS-210T"
expect 0 "show --json" ctl -j show sensor1
contains "show --json: thresholds" '"temp1_min":-25000'
expect 4 "show: no such unit" ctl show sensor7
contains "no such unit: message" "no unit is named or has the serial 'sensor7'"

expect 0 "set label and thresholds in degrees" ctl set sensor0 "label=Freezer 1" temp1.min=-30C temp1.max=-20.5C temp1.hyst=250
[ "$(cat "$sys/class/coldroom/sensor0/label")" = "Freezer 1" ] && pass "label written" || fail "label not written"
[ "$(cat "$sys/class/coldroom/sensor0/temp1_max")" = "-20500" ] && pass "temp1.max written" || fail "temp1.max not written"
expect 0 "set interval" ctl set SIM-000001 interval=2000
[ "$(cat "$sys/class/coldroom/sensor0/update_interval_ms")" = "2000" ] && pass "interval written" || fail "interval not written"
expect 6 "set: interval rejected" ctl set sensor0 interval=5
contains "rejection says why" "interval must be 100..3600000 ms"
expect 6 "set: thresholds rejected" ctl set sensor0 temp2.min=10C
expect 6 "set: label rejected" ctl set sensor0 "label= padded"
expect 2 "set: unknown key" ctl set sensor0 colour=blue
expect 2 "set: not KEY=VALUE" ctl set sensor0 label
expect 2 "set: bad number" ctl set sensor0 temp1.min=cold
expect 2 "set: nothing" ctl set sensor0
expect 4 "set: no such unit" ctl set sensor9 label=x
[ "$(cat "$sys/class/coldroom/sensor0/update_interval_ms")" = "2000" ] && pass "rejected sets changed nothing" || fail "a rejected set changed something"

expect 0 "firmware" ctl firmware sensor1
contains "firmware: error" "no firmware for model CRS-210T"
expect 0 "firmware --json" ctl --json firmware sensor0
contains "firmware --json: source" "\"source\":\"$tmp/model/CRS-200.fw\""
expect 0 "firmware reload" ctl firmware sensor0 reload
[ "$(cat "$sys/class/coldroom/sensor0/firmware_reload")" = "1" ] && pass "reload written" || fail "reload not written"
expect 2 "firmware: unknown action" ctl firmware sensor0 flash

# No device on a test tree, so no unit has sent a frame.
expect 1 "frame of a unit without one" ctl frame sensor0 -o "$tmp/frame.png"
contains "frame: says why" "has sent no thermal frame"
if [ -e "$tmp/frame.png" ]; then fail "frame: a file was written"; else pass "frame: nothing written"; fi
expect 4 "frame: no such unit" ctl frame sensor7 -o "$tmp/frame.png"
expect 2 "frame without -o" ctl frame sensor0 "$tmp/frame.png"
expect 2 "frame without a file" ctl frame sensor0

# A probe's calibration: set, its reminders listed as alarms, bad input refused.
expect 0 "calibrate a probe due in 20 days" ctl calibrate SIM-000001 2 --date -345d --due +20d \
	--certificate "CAL 4711" --as-found -0.15C --as-left 20
expect 0 "alarms" ctl alarms
contains "the 30-day reminder is listed by kind" "calibration-30d"
expect 0 "alarms --json" ctl --json alarms
contains "alarms --json: the kind" '"kind":"calibration-90d"'
expect 6 "calibrate: due before the date" ctl calibrate sensor0 1 --date today --due yesterday \
	--certificate x
contains "the refusal says why" "due date must come after"
expect 2 "calibrate: no certificate" ctl calibrate sensor0 1 --date today --due +1y
expect 2 "calibrate: probe 3" ctl calibrate sensor0 3 --date today --due +1y --certificate x
expect 2 "calibrate: not a time" ctl calibrate sensor0 1 --date soon --due +1y --certificate x
expect 2 "calibrate: not an offset" ctl calibrate sensor0 1 --date today --due +1y \
	--certificate x --as-found warm
expect 0 "ack the reminders" ctl ack SIM-000001 2 --comment "booked the lab"
expect 0 "watch one screen" ctl --count 1 watch
contains "watch draws the table" "Freezer 1"
# watch asks for the objects once, then follows the Readings signal.
dbus-monitor --address "$addr" "type='method_call',member='GetManagedObjects'" \
	>"$tmp/monitor" 2>&1 &
monitor_pid=$!
# A monitor gives up its name when it starts monitoring.
for _ in $(seq 100); do grep -q "member=NameLost" "$tmp/monitor" && break; sleep 0.1; done
ctl --count 4 watch >"$tmp/watch" 2>&1 &
watch_pid=$!
for _ in $(seq 50); do grep -q "Freezer 1" "$tmp/watch" && break; sleep 0.1; done
# New samples until the watch has drawn four screens (redraws of samples
# close together are one).
for i in $(seq 1 9); do
	kill -0 "$watch_pid" 2>/dev/null || break
	echo $((-17000 - i * 100)) >"$sys/class/coldroom/sensor0/temp1"
	echo $((10 + i)) >"$sys/class/coldroom/sensor0/sample_seq"
	ctl reload >/dev/null
	sleep 0.5
done
if timeout 20 tail --pid="$watch_pid" -f /dev/null; then
	wait "$watch_pid" && pass "watch: a screen for each new reading" || fail "watch: exit status $?"
else
	kill "$watch_pid"; fail "watch: did not end after four screens"
fi
if grep sensor0 "$tmp/watch" | grep -qE -- "-17\.[1-9]0°C"; then
	pass "watch shows the readings of the Readings signal"
else
	fail "watch shows no new reading:"; sed 's/^/    /' "$tmp/watch"
fi
kill "$monitor_pid"; wait "$monitor_pid" 2>/dev/null
calls=$(grep -c "member=GetManagedObjects" "$tmp/monitor")
[ "$calls" -eq 1 ] && pass "watch fetched the objects once" ||
	fail "watch called GetManagedObjects $calls times, not once"
expect 0 "reload" ctl reload
expect 2 "unknown command" ctl frobnicate
expect 2 "no command" ctl
expect 2 "show without a unit" ctl show

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$COLDROOMCTL" --bus "$addr" "$@"; }
	expect 0 "nobody may list" nobody list
	expect 5 "nobody may not set" nobody set sensor0 label=Mine
	contains "access denied: message" "access denied"
	expect 5 "nobody may not reload firmware" nobody firmware sensor0 reload
fi

# The shipped introspection XML is exactly what the daemon publishes.
ours() { sed -n '/<interface name="org.coldroom.Sensors1/,/<\/interface>/p' | sed 's/^ *//'; }
live=$(for path in /org/coldroom/Sensors1 /org/coldroom/Sensors1/unit/sensor0; do
	busctl --address="$addr" introspect --xml-interface org.coldroom.Sensors1 "$path" | ours
done)
if diff -u <(ours <"$xml") <(printf '%s\n' "$live"); then
	pass "introspection XML matches the daemon"
else
	fail "$(basename "$xml") differs from the daemon's introspection"
fi

kill "$daemon_pid"; wait "$daemon_pid"; rc=$?
daemon_pid=
[ "$rc" = 0 ] && pass "daemon stops cleanly" || { fail "daemon exit $rc"; cat "$tmp/daemon.log"; }
expect 3 "daemon not running" ctl list
contains "not running: message" "coldroomd is not running"
expect 3 "no bus" "$COLDROOMCTL" --bus "unix:path=$tmp/nothing" list

echo "test_ctl: $failures failure(s)"
[ "$failures" = 0 ]
