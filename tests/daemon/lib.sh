# shellcheck shell=bash
# Sourced by the daemon's shell tests.

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds, every 0.2 s.
# SECONDS is what the step takes on a loaded machine, not a performance
# bound: it only ends a wait for what never comes, so it is stretched by
# WAIT_SCALE (default 3) for machines where the VM lanes run beside these
# tests and even an interpreter's start-up can take seconds.
wait_for() {
	local deadline=$((SECONDS + $1 * ${WAIT_SCALE:-3})); shift
	until "$@"; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.2; done
}

# fake_unit SYS NAME SERIAL: a ready CRS-200 unit in a fake sysfs tree,
# no sample yet, alarm band -25..8 degrees.
fake_unit() {
	local d=$1/class/coldroom/$2 c
	mkdir -p "$d"
	echo "$3" >"$d/serial"; echo CRS-200 >"$d/model"; echo "Room $2" >"$d/label"
	echo -18000 >"$d/temp1"; echo 4000 >"$d/temp2"
	echo 0 >"$d/temp1_alarm"; echo 0 >"$d/temp2_alarm"
	echo 0 >"$d/sample_seq"; echo 0 >"$d/sample_time_ns"; echo 1000 >"$d/update_interval_ms"
	for c in 1 2; do echo -25000 >"$d/temp${c}_min"; echo 8000 >"$d/temp${c}_max"; echo 500 >"$d/temp${c}_hyst"; done
	echo "coldroom/CRS-200-$3.fw" >"$d/firmware_name"; echo ready >"$d/firmware_state"
	: >"$d/firmware_error"; echo 1.0.0 >"$d/firmware_version"; : >"$d/firmware_reload"
}

# start_private_bus DIR starts a dbus-daemon on unix:path=DIR/bus with the
# installed product's policy: the <policy> and <limit> elements of Debian's
# stock system.conf ($SYSTEM_BUS_CONF), read at test time, then copies of
# the project's policy files (systemd/org.coldroom.*.conf). The services
# under test run as root, so a last file lets root own the names their own
# users own when installed. DIR becomes traversable, so that a plain user
# (as_plain_user) can connect. Sets $addr and $bus_pid (the caller kills it).
lib_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
start_private_bus() {
	local conf
	mkdir -p "$1/bus.d" && chmod 0711 "$1" || return 1
	for conf in "$lib_top"/systemd/org.coldroom.*.conf; do
		cp "$conf" "$1/bus.d/" || return 1
	done
	cat >"$1/bus.d/zz-services-as-root.conf" <<CONF
<busconfig>
  <policy user="root">
    <allow own="org.coldroom.Recorder1"/>
    <allow own="org.coldroom.Uplink1"/>
    <!-- The tests' stand-in polkit authority (shared/mock_polkit). -->
    <allow own="org.freedesktop.PolicyKit1"/>
  </policy>
  <!-- Everyone may ask it, as polkitd's own policy file says. -->
  <policy context="default">
    <allow send_destination="org.freedesktop.PolicyKit1"
           send_interface="org.freedesktop.PolicyKit1.Authority"/>
  </policy>
</busconfig>
CONF
	python3 - "$1" "${SYSTEM_BUS_CONF:-/usr/share/dbus-1/system.conf}" <<'PY' || return 1
import sys
import xml.etree.ElementTree as ET

scratch, stock = sys.argv[1], sys.argv[2]
out = ET.Element("busconfig")
ET.SubElement(out, "listen").text = "unix:path=%s/bus" % scratch
ET.SubElement(out, "auth").text = "EXTERNAL"
taken = [el for el in ET.parse(stock).getroot() if el.tag in ("policy", "limit")]
if not any(el.tag == "policy" for el in taken):
    sys.exit("%s has no <policy>" % stock)
out.extend(taken)
ET.SubElement(out, "includedir").text = "%s/bus.d" % scratch
ET.ElementTree(out).write("%s/bus.conf" % scratch)
PY
	dbus-daemon --config-file="$1/bus.conf" --fork --print-address=3 --print-pid=4 \
		3>"$1/address" 4>"$1/pid" 2>"$1/bus.log" || { cat "$1/bus.log" >&2; return 1; }
	addr=$(head -n1 "$1/address")
	bus_pid=$(head -n1 "$1/pid")
}

# as_plain_user COMMAND...: COMMAND as nobody, a user with no group of ours.
as_plain_user() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}

# bus_has_name NAME: NAME has an owner on $addr (asks the bus itself, which
# needs no peer credentials, unlike `busctl status`).
bus_has_name() {
	busctl --address="$addr" call org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus NameHasOwner s "$1" 2>/dev/null | grep -qx 'b true'
}

# bus_owner NAME: the unique name that owns NAME on $addr.
bus_owner() {
	busctl --address="$addr" call org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus GetNameOwner s "$1" | sed -n 's/^s "\(.*\)"$/\1/p'
}

# scratch_dir NAME: $tmp, a new directory, and a trap that stops the
# recorder, the daemon and the bus ($recorder_pid, $daemon_pid, $bus_pid)
# and any helpers ($extra_pids) and removes it on exit.
scratch_dir() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	bus_pid= daemon_pid= recorder_pid= extra_pids=
	trap scratch_cleanup EXIT
}
scratch_cleanup() {
	local p
	for p in $extra_pids $recorder_pid $daemon_pid $bus_pid; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}

# start_notify_listener SOCKET LOG: systemd's side of sd_notify on SOCKET,
# every line of every datagram into LOG with the time it came; added to
# $extra_pids. Fails if the socket does not appear.
start_notify_listener() {
	python3 - "$1" "$2" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        d = s.recv(4096).decode(errors="replace")
        for line in d.split("\n"):
            log.write("%.3f %s\n" % (time.monotonic(), line))
PY
	extra_pids="$extra_pids $!"
	wait_for 10 test -S "$1"
}

# watchdog_gap LOG: "MAX_US N", the longest time between two WATCHDOG=1 of
# a start_notify_listener LOG from READY=1 on, and how many came.
watchdog_gap() {
	awk '/ READY=1$/ { r = 1 } r && / WATCHDOG=1$/ { if (last && $1 - last > max) max = $1 - last; last = $1; n++ }
		END { printf "%d %d\n", max * 1000000, n }' "$1"
}

# fake_sample SYS UNIT TEMP1 TEMP2: a new sample of UNIT in a fake tree,
# as the kernel would publish it (stamped CLOCK_MONOTONIC, here: boot time).
fake_sample() {
	local d=$1/class/coldroom/$2 seq
	read -r seq <"$d/sample_seq"
	echo "$3" >"$d/temp1"; echo "$4" >"$d/temp2"
	awk '{ printf "%.0f\n", $1 * 1e9 }' /proc/uptime >"$d/sample_time_ns"
	echo $((seq + 1)) >"$d/sample_seq"
}

# rss_kb PID: PID's resident memory (VmRSS), in kB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# rss_within PID BEFORE_KB MORE_KB: PID's resident memory grew by at most
# MORE_KB since it was BEFORE_KB (a bound far above an allocator's noise).
rss_within() {
	local now
	now=$(rss_kb "$1") && [ -n "$now" ] && [ "$now" -le $(($2 + $3)) ] && return 0
	echo "VmRSS of $1: $2 kB, now ${now:-?} kB (at most +$3 kB)" >&2
	return 1
}

# huge_units SYS: units named with the largest Number there is
# (COLDROOM_UNIT_MAX, sensor1048575, serial SIM-100000) and one above it
# (sensor1048576, SIM-100001: coldroomd publishes it without a Number).
# A client whose tables grow with the largest Number a message names, not
# with the units that exist, takes a million entries for the first.
huge_units() {
	fake_unit "$1" sensor1048575 SIM-100000
	fake_unit "$1" sensor1048576 SIM-100001
}

# introspection_matches NAME XML: the interface NAME of the object
# /NAME (dots as slashes) on $addr is exactly what the shipped XML says.
introspection_matches() {
	local path=/${1//./\/}
	ours() { sed -n "/<interface name=\"$1\"/,/<\/interface>/p" | sed 's/^ *//'; }
	diff -u <(ours "$1" <"$2") \
		<(busctl --address="$addr" introspect --xml-interface "$1" "$path" | ours "$1")
}

# ctl ARG...: coldroomctl on the private bus ($addr).
ctl() { "$COLDROOMCTL" --bus "$addr" "$@"; }

# two_units WHO [DIR...]: what the tests of coldroomd's clients start
# from: a fake sysfs tree $sys with sensor0 (SIM-000001) and sensor1
# (SIM-000002), coldroomd's settings in $tmp/coldroom.conf (firmware from
# $tmp/model, 50 ms windows, 10 s record intervals) and a private bus
# ($addr); $db is where the record goes. DIR...: more folders made under
# $tmp. WHO says that no bus could be started, and the test ends.
two_units() {
	local who=$1 d
	shift
	sys=$tmp/sys
	mkdir -p "$sys/class/coldroom" "$tmp/model"
	for d in "$@"; do mkdir -p "$tmp/$d"; done
	fake_unit "$sys" sensor0 SIM-000001
	fake_unit "$sys" sensor1 SIM-000002
	cat >"$tmp/coldroom.conf" <<CONF
ModelFirmwareDir=$tmp/model
ReadingsBatchMs=50
RecordIntervalSec=10
CONF
	start_private_bus "$tmp" || { echo "$who: no dbus-daemon"; exit 1; }
	db=$tmp/record.db
}

# free_port: a TCP port of 127.0.0.1 that is free now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_coldroomd_metrics DIR: a private bus in DIR, coldroomd on the fake
# tree DIR/sys (firmware from DIR/model) and coldroom-metrics in front of it
# on a free port. Sets $addr, $daemon_pid, $mport and $metrics_pid (the
# caller kills the last); logs in DIR/daemon.log and DIR/metrics.log.
start_coldroomd_metrics() {
	echo "ModelFirmwareDir=$1/model" >"$1/coldroom.conf"
	start_private_bus "$1" || { echo "no dbus-daemon" >&2; return 1; }
	"$COLDROOMD" --bus "$addr" --sysfs-root "$1/sys" --config "$1/coldroom.conf" 2>"$1/daemon.log" &
	daemon_pid=$!
	wait_for 20 "$COLDROOMCTL" --bus "$addr" list >/dev/null 2>&1 ||
		{ echo "coldroomd did not start" >&2; return 1; }
	mport=$(free_port)
	"$METRICS" --bus "$addr" --listen "127.0.0.1:$mport" 2>"$1/metrics.log" &
	metrics_pid=$!
}

# start_prometheus DIR [RULE_FILE]: a Prometheus server with its data in
# DIR that scrapes coldroom-metrics ($mport) as the job "coldroom" and
# evaluates RULE_FILE, each every second. Sets $pport and $prometheus_pid
# (the caller kills it); logs in DIR/prometheus.log.
start_prometheus() {
	pport=$(free_port)
	{
		printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n'
		[ -z "${2:-}" ] || printf 'rule_files:\n  - %s\n' "$2"
		printf 'scrape_configs:\n  - job_name: coldroom\n    static_configs:\n'
		printf "      - targets: ['127.0.0.1:%s']\n" "$mport"
	} >"$1/prometheus.yml"
	prometheus --config.file="$1/prometheus.yml" --storage.tsdb.path="$1/tsdb" \
		--web.listen-address="127.0.0.1:$pport" >"$1/prometheus.log" 2>&1 &
	prometheus_pid=$!
}

# run_recorder DIR: coldroom-recorder on $addr with DIR/coldroom.conf, its
# record DIR/record.db; waits for its name. Sets $recorder_pid.
run_recorder() {
	"$RECORDER" --bus "$addr" --config "$1/coldroom.conf" --database "$1/record.db" \
		2>>"$1/recorder.log" &
	recorder_pid=$!
	wait_for 20 bus_has_name org.coldroom.Recorder1
}

# run_uplink DIR PORT: coldroom-uplink on $addr, to a broker at
# 127.0.0.1:PORT without TLS or password (DIR/uplink.conf, its state in
# DIR/uplink-state); waits for its name. Sets $uplink_pid (the caller kills it).
run_uplink() {
	mkdir -p "$1/uplink-state"
	printf 'Broker=127.0.0.1:%s\nSite=plant-1\nHost=gw1\nKeepaliveSec=5\n' "$2" >"$1/uplink.conf"
	"$UPLINK" --bus "$addr" --config "$1/uplink.conf" --state-dir "$1/uplink-state" \
		2>>"$1/uplink.log" &
	uplink_pid=$!
	wait_for 20 bus_has_name org.coldroom.Uplink1
}
