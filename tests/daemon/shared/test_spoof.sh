#!/bin/bash
# Forged signals from a plain local user, on a bus with Debian's stock
# system policy and the project's policy files (lib.sh start_private_bus),
# against coldroomd's and the recorder's clients as they run: the recorder,
# coldroom-metrics, coldroom-uplink (PublishSamples, to a real mosquitto)
# and `coldroomctl watch`. The stock policy lets every user send any
# signal, broadcast or addressed to one connection's unique name; a client
# takes a signal only from the current owner of the service's name and
# never one with a destination (DBUS-API.md, "Trusting a signal"). Each of
# coldroomd's signals (and the recorder's Committed, and NameOwnerChanged)
# is sent as nobody, unicast to each client and broadcast, with arguments
# a real coldroomd would send; then a real change goes through each client,
# and nothing forged may be in the record, the audit trail, the metrics
# page, the broker or watch's output.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, RECORDER,
# METRICS, UPLINK.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-spoof-test
for tool in mosquitto mosquitto_sub setpriv sqlite3 curl python3; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
		{ echo "test_spoof: $tool is missing"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "test_spoof: needs root (a plain user is made with setpriv)"; exit 1; }
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
metrics_pid= uplink_pid= broker_pid= sub_pid= watch_pid=
cleanup_spoof() {
	local p
	for p in $watch_pid $sub_pid $uplink_pid $metrics_pid $broker_pid; do kill "$p" 2>/dev/null; done
	scratch_cleanup
}
trap cleanup_spoof EXIT

two_units test_spoof state
q() { sqlite3 -batch -noheader "$db" "$1"; }
# unique_of PID: the unique bus name of the connection of process PID.
unique_of() {
	local n
	for n in $(busctl --address="$addr" call org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus ListNames | grep -o '":[0-9.]*"' | tr -d '"'); do
		[ "$(busctl --address="$addr" call org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus GetConnectionUnixProcessID s "$n" 2>/dev/null)" = "u $1" ] &&
			{ echo "$n"; return 0; }
	done
	return 1
}

# --- the product, as root, and a consumer of each output ---------------------
"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" 2>>"$tmp/daemon.log" &
daemon_pid=$!
wait_for 20 ctl list >/dev/null 2>&1 || { fail "coldroomd did not start"; exit 1; }
"$RECORDER" --bus "$addr" --config "$tmp/coldroom.conf" --database "$db" --debug \
	2>>"$tmp/recorder.log" &
recorder_pid=$!
wait_for 20 bus_has_name org.coldroom.Recorder1 || { fail "the recorder did not start"; exit 1; }

mport=$(free_port)
"$METRICS" --bus "$addr" --listen "127.0.0.1:$mport" 2>"$tmp/metrics.log" &
metrics_pid=$!
scrape() { curl -sS --max-time 20 -o "$tmp/page" -w '%{http_code}' "http://127.0.0.1:$mport/metrics"; }
page_ok() { [ "$(scrape)" = 200 ]; }

bport=$(free_port)
cat >"$tmp/mosquitto.conf" <<CONF
user $(id -un)
allow_anonymous true
log_dest file $tmp/broker.log
listener $bport 127.0.0.1
CONF
"$MOSQUITTO" -c "$tmp/mosquitto.conf" >"$tmp/broker.err" 2>&1 &
broker_pid=$!
wait_for 20 mosquitto_sub -h 127.0.0.1 -p "$bport" -t probe/none -W 1 -E >/dev/null 2>&1 ||
	{ fail "mosquitto did not start"; exit 1; }
mosquitto_sub -h 127.0.0.1 -p "$bport" -t 'coldroom/v1/#' -v >"$tmp/sub.log" 2>&1 &
sub_pid=$!
cat >"$tmp/uplink.conf" <<CONF
Broker=127.0.0.1:$bport
Site=plant-1
Host=gw1
PublishSamples=yes
CONF
"$UPLINK" --bus "$addr" --config "$tmp/uplink.conf" --state-dir "$tmp/state" --debug \
	2>>"$tmp/uplink.log" &
uplink_pid=$!
up_prop() {
	busctl --address="$addr" get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 \
		org.coldroom.Uplink1 "$1" 2>/dev/null
}
wait_for 30 bash -c "$(declare -f up_prop); addr='$addr'; up_prop State | grep -q connected" ||
	{ fail "the uplink did not connect"; cat "$tmp/uplink.log"; exit 1; }

"$COLDROOMCTL" --bus "$addr" watch >"$tmp/watch.out" 2>"$tmp/watch.err" &
watch_pid=$!

# A real sample, and each consumer has it: everyone is following coldroomd.
fake_sample "$sys" sensor0 -18250 3500
fake_sample "$sys" sensor1 -21000 -500
ctl reload >/dev/null
check "the metrics page serves both units" wait_for 20 bash -c \
	"curl -sS --max-time 20 http://127.0.0.1:$mport/metrics 2>/dev/null | grep -q 'unit=\"sensor1\".*probe=\"1\"} -21'"
check "the broker has a real sample" wait_for 20 \
	grep -q 'unit/SIM-000002/sample .*"temp1_mdeg":-21000' "$tmp/sub.log"
check "watch shows the real sample" wait_for 20 grep -q -- '-21.0' "$tmp/watch.out"
page_ok && cp "$tmp/page" "$tmp/page.before"
audit_before=$(q "SELECT coalesce(max(seq), 0) FROM audit")
backlog_before=$(up_prop Backlog)

recorder=$(bus_owner org.coldroom.Recorder1)
uplink=$(bus_owner org.coldroom.Uplink1)
metrics=$(unique_of "$metrics_pid")
watch=$(unique_of "$watch_pid")
check "each client's unique name is known ($recorder $uplink $metrics $watch)" \
	test -n "$recorder" -a -n "$uplink" -a -n "$metrics" -a -n "$watch"

# --- the forgeries, as nobody -----------------------------------------------
now=$(($(date +%s) * 1000000))
S=/org/coldroom/Sensors1
M=org.coldroom.Sensors1.Manager
forge_all() { # forge_all [--destination=NAME]: every signal once
	local f=(as_plain_user busctl --address="$addr" emit "$@" --)
	# Readings: sensor0 (real) and sensor7 (invented), 77.777 degrees, both alarms on.
	"${f[@]}" $S $M Readings auaiaiayayayatat 2 0 7 2 77777 77777 2 -77777 -77777 \
		2 1 1 2 1 1 2 3 3 2 999999 999999 2 "$now" "$now" || return 1
	"${f[@]}" $S $M SettingChanged osssssus $S/unit/sensor0 sensor0 SIM-000001 \
		temp1_max -15000 40000 0 root || return 1
	"${f[@]}" $S $M AlarmChanged tsssuuuitusss 4242 acknowledged SIM-000001 sensor0 1 2 1 \
		77777 "$now" 0 root "forged: all is well" temperature || return 1
	"${f[@]}" $S $M AuthorizationRefused ssuuss org.coldroom.sensors.acknowledge SIM-000001 1 \
		0 root "forged: a refusal to blame on root" || return 1
	"${f[@]}" $S org.freedesktop.DBus.ObjectManager InterfacesAdded 'oa{sa{sv}}' \
		$S/unit/sensor1048575 1 org.coldroom.Sensors1.Unit 4 Number u 1048575 \
		Name s sensor1048575 Serial s FORGED-1 Label s forged || return 1
	"${f[@]}" $S org.freedesktop.DBus.ObjectManager InterfacesRemoved oas \
		$S/unit/sensor1 1 org.coldroom.Sensors1.Unit || return 1
	"${f[@]}" $S/unit/sensor0 org.freedesktop.DBus.Properties PropertiesChanged 'sa{sv}as' \
		org.coldroom.Sensors1.Unit 3 Label s forged Temp1Max i 40000 Temp1 i 77777 0 || return 1
	"${f[@]}" $S org.freedesktop.DBus.Properties PropertiesChanged 'sa{sv}as' \
		$M 1 UnacknowledgedAlarms u 99 0 || return 1
	"${f[@]}" /org/coldroom/Recorder1 org.coldroom.Recorder1 Committed tt 999999 999999 ||
		return 1
	# Not the bus's: coldroomd "gone", then "back" under the forger's name.
	"${f[@]}" /org/freedesktop/DBus org.freedesktop.DBus NameOwnerChanged sss \
		org.coldroom.Sensors1 "$(bus_owner org.coldroom.Sensors1)" "" || return 1
	"${f[@]}" /org/freedesktop/DBus org.freedesktop.DBus NameOwnerChanged sss \
		org.coldroom.Recorder1 "$recorder" "" || return 1
}
check "nobody may send them: broadcast" forge_all
for dest in "$recorder" "$uplink" "$metrics" "$watch"; do
	check "and unicast to $dest" forge_all --destination="$dest"
done

# A real change after them: each client has taken everything sent before it.
ctl set sensor1 label=After >/dev/null || fail "ctl set failed"
fake_sample "$sys" sensor0 -18500 3000
ctl reload >/dev/null
check "the recorder took the real change" wait_for 20 bash -c \
	"sqlite3 '$db' \"SELECT 1 FROM audit WHERE event = 'setting-changed' AND new_value = 'After'\" | grep -q 1"
check "the metrics page took it" wait_for 20 bash -c \
	"curl -sS --max-time 20 http://127.0.0.1:$mport/metrics 2>/dev/null | grep -q 'label=\"After\"'"
check "the broker has the real sample after them" wait_for 20 \
	grep -q 'unit/SIM-000001/sample .*"temp1_mdeg":-18500' "$tmp/sub.log"
check "watch shows the real change" wait_for 20 grep -q 'After' "$tmp/watch.out"

# --- nothing forged anywhere -------------------------------------------------
new_audit=$(q "SELECT event || ' ' || serial || ' ' || coalesce(what, '') || ' ' ||
	       coalesce(new_value, '') || ' ' || coalesce(detail, '') FROM audit
	       WHERE seq > $audit_before")
check "the audit trail has only the real change ($new_audit)" \
	test "$new_audit" = "setting-changed SIM-000002 label After "
check "no forged acknowledgement, setting or unit in the whole trail" \
	test "$(q "SELECT count(*) FROM audit WHERE event LIKE 'alarm-%' OR new_value = '40000'
		   OR serial = 'FORGED-1' OR detail LIKE '%forged%' OR event IN
		   ('unit-removed', 'unit-added', 'coldroomd-stopped', 'coldroomd-started', 'refused')
		   AND time_us > $now - 5000000")" = 0
check "the recorder still knows sensor1 (no InterfacesRemoved taken)" \
	test "$(q "SELECT count(*) FROM audit WHERE event = 'unit-removed'")" = 0
check "the recorder logged the refusals at debug" grep -q 'dropped signal' "$tmp/recorder.log"
check "metrics: the page still serves sensor0 and sensor1, unforged" bash -c \
	"curl -sS --max-time 20 -o '$tmp/page' http://127.0.0.1:$mport/metrics &&
	 grep -q 'unit=\"sensor0\".*probe=\"1\"} -18.5' '$tmp/page' &&
	 grep -q 'unit=\"sensor1\"' '$tmp/page' &&
	 ! grep -qiE 'forged|77\\.777|sensor1048575|coldroom_unacknowledged_alarms 99' '$tmp/page' &&
	 ! grep -qE '^coldroom_temperature_max_celsius\\{.*sensor0.*probe=\"1\"\\} 40' '$tmp/page'"
check "metrics: coldroomd still up" grep -q '^coldroom_coldroomd_up 1' "$tmp/page"
check "broker: nothing forged" bash -c "! grep -qE '77777|FORGED|forged|sensor7' '$tmp/sub.log'"
check "uplink: the Backlog is not a forged head ($(up_prop Backlog), was $backlog_before)" \
	bash -c "[ \"\$(busctl --address='$addr' get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 \
		org.coldroom.Uplink1 Backlog | cut -d' ' -f2)\" -lt 1000 ]"

# watch redraws from a Readings signal alone, and fetches the units again
# after any other signal: a forged Readings, then a real sample of the
# other unit, so that a forged value taken would be on the next screen.
forge_readings() {
	as_plain_user busctl --address="$addr" emit "$@" -- $S $M Readings auaiaiayayayatat \
		1 0 1 66666 1 -66666 1 1 1 1 1 0 1 999999 1 "$now"
}
check "a forged Readings of sensor0, broadcast" forge_readings
check "and unicast to watch" forge_readings --destination="$watch"
fake_sample "$sys" sensor1 -22500 -500
ctl reload >/dev/null
check "watch shows the real sample after it" wait_for 20 grep -q -- '-22.5' "$tmp/watch.out"
check "watch: no forged reading shown" bash -c "! grep -qE '66\\.67' '$tmp/watch.out'"

# The recorder closes its intervals on stop: no forged reading in any row.
kill "$recorder_pid"; wait "$recorder_pid"; rc=$?; recorder_pid=
check "the recorder stopped cleanly" test "$rc" -eq 0
check "no forged reading in the record" \
	test "$(q "SELECT count(*) FROM record WHERE max >= 77777 OR min <= -77777 OR serial NOT IN
		   ('SIM-000001', 'SIM-000002')")" = 0
check "the real readings are there" \
	test "$(q "SELECT count(*) FROM record WHERE serial = 'SIM-000001' AND probe = 1 AND n > 0")" -ge 1
out=$(ctl --database "$db" record verify 2>&1); rc=$?
check "coldroomctl record verify: intact ($out)" test "$rc" -eq 0

[ "$failures" -eq 0 ] || {
	for f in recorder uplink metrics; do echo "--- $f.log"; tail -n 30 "$tmp/$f.log"; done
}
echo "test_spoof: $failures failure(s)"
exit $((failures > 0))
