#!/bin/bash
# Guest: where coldroomd's readings and events come from, and what happens
# when that changes under it. With the modules loaded it reads records of
# /dev/coldroom and takes events from the netlink family; when it falls
# behind, the overflow record makes it re-read every unit; when the last
# unit goes it lets go of both, so the modules can be unloaded while it
# runs, and it picks up the reloaded ones. Started before the modules, or
# with the device refused, it reads from sysfs and says why.
set -uo pipefail
. /usr/lib/vmtest/daemon-lib.sh
install_daemon

refcnt() { cat /sys/module/coldroom/refcnt; }
# Asked again at each try of wait_for, not once before it.
unreferenced() { [ "$(refcnt)" -eq 0 ]; }
pid_of_daemon() { systemctl show -p MainPID --value coldroomd; }
seq_grows() { # seq_grows SENSOR: its SampleSeq on D-Bus moves on
	local s0
	s0=$(prop "$1" SampleSeq)
	wait_for 10 bash -c "[ \$(busctl get-property $BUS /org/coldroom/Sensors1/unit/$1 $UNIT_IFACE SampleSeq | cut -d' ' -f2) -gt $s0 ]"
}
# dbus_matches_sysfs: every unit's SampleSeq on D-Bus is the one in sysfs.
dbus_matches_sysfs() {
	local d s
	for d in "$CLASS"/sensor*; do
		s=$(basename "$d")
		[ "$(prop "$s" SampleSeq)" = "$(cat "$d/sample_seq")" ] || return 1
	done
}
set_intervals() { # set_intervals MS
	local d
	for d in "$CLASS"/sensor*; do echo "$1" >"$d/update_interval_ms"; done
}

echo "== the modules, then the daemon (as udev starts it)"
# A small ring, so that a stopped reader falls behind quickly.
load_core ring_records=64
load_sim units=4 door_interval_s=0
systemctl start coldroomd || die "coldroomd did not start"
need "the daemon serves the units" wait_for 60 all_ready
check "STATUS= summary" wait_for 10 status_is "4 units, 4 ready"
check "ReadingSource is device" manager_prop_is ReadingSource device
check "EventSource is netlink" manager_prop_is EventSource netlink
check "the daemon holds /dev/coldroom open" bash -c "ls -l /proc/$(pid_of_daemon)/fd | grep -q /dev/coldroom"
check "samples arrive through the device" seq_grows sensor0

echo "== falling behind: the overflow record makes the daemon re-read every unit"
set_intervals 100
pid=$(pid_of_daemon)
kill -STOP "$pid"
sleep 4	# 4 units x 10 samples/s x 4 s: 160 records for a 64-record ring
kill -CONT "$pid"
check "journal: records lost, re-reading" wait_for 10 journal_has "records lost (fell behind); re-reading all units"
check "the daemon is still running" systemctl -q is-active coldroomd
set_intervals 3600000
check "every unit's SampleSeq on D-Bus is the one in sysfs" wait_for 10 dbus_matches_sysfs
set_intervals 500

echo "== the last unit goes: the modules unload under the running daemon"
rmmod coldroom_sim
# The bound only tells "never" from an emulated machine under load.
check "the daemon lets go of /dev/coldroom" wait_for 60 unreferenced
check "ReadingSource none again" manager_prop_is ReadingSource none
check "journal: released" journal_has "no units: /dev/coldroom and the netlink family released"
check "rmmod coldroom while coldroomd runs" rmmod coldroom
check "the daemon is still running" systemctl -q is-active coldroomd

echo "== the modules again: the daemon finds the new device and family"
load_core
load_sim units=2 door_interval_s=0
need "the daemon serves the units of the reloaded modules" wait_for 60 all_ready
check "ReadingSource is the device again" wait_for 10 manager_prop_is ReadingSource device
check "EventSource is netlink again" manager_prop_is EventSource netlink
check "journal: subscribed to the family twice" test "$(journalctl -b -u coldroomd --no-pager | grep -c 'netlink: subscribed')" -eq 2
check "samples arrive through the new device" seq_grows sensor0
# Below its minimum: raise the maximum first so min < max holds throughout.
alarms_raised() {
	journalctl -b -u coldroomd --no-pager COLDROOM_UNIT=sensor0 COLDROOM_OUTCOME=alarm | grep -c 'temp1 alarm raised'
}
raised0=$(alarms_raised)
k=$(attr sensor0 temp1)
echo $((k + 20000)) >"$CLASS/sensor0/temp1_max"
echo $((k + 10000)) >"$CLASS/sensor0/temp1_min"
# With EventSource netlink, alarms come from the family's events only.
check "an alarm arrives from the new family" wait_for 10 bash -c "$(declare -f alarms_raised); [ \$(alarms_raised) -gt $raised0 ]"
check "and reaches Temp1Alarm" wait_for 10 bash -c "busctl get-property $BUS /org/coldroom/Sensors1/unit/sensor0 $UNIT_IFACE Temp1Alarm | grep -q true"

echo "== the daemon first, then the modules"
systemctl stop coldroomd
unload_all
systemctl start coldroomd || die "coldroomd did not start"
check "no units: ReadingSource none" manager_prop_is ReadingSource none
check "no units: EventSource uevent" manager_prop_is EventSource uevent
check "STATUS= says no units" wait_for 10 status_is "0 units"
load_core
load_sim units=2 door_interval_s=0
need "the daemon serves the new units" wait_for 60 all_ready
check "EventSource became netlink" wait_for 10 manager_prop_is EventSource netlink
# The service's device sandbox was made before /dev/coldroom existed.
check "ReadingSource is sysfs" manager_prop_is ReadingSource sysfs
check "journal: says why and what to do" journal_has "not in it until \"systemctl restart coldroomd\""
check "samples arrive through sysfs" seq_grows sensor0
systemctl restart coldroomd || die "coldroomd did not restart"
check "after a restart ReadingSource is device" wait_for 10 manager_prop_is ReadingSource device

echo "== the device refused: readings from sysfs"
systemctl stop coldroomd
# DeviceAllow= empty clears the list: DevicePolicy=closed then refuses it.
printf '[Service]\nDeviceAllow=\n' >/run/systemd/system/coldroomd.service.d/no-device.conf
systemctl daemon-reload
systemctl start coldroomd || die "coldroomd did not start without the device"
check "ReadingSource is sysfs" wait_for 10 manager_prop_is ReadingSource sysfs
check "EventSource is still netlink" manager_prop_is EventSource netlink
check "journal: why" bash -c "journalctl -b -u coldroomd _PID=\$(systemctl show -p MainPID --value coldroomd) --no-pager | grep -qF 'reading source: sysfs (/dev/coldroom: Operation not permitted)'"
check "the daemon follows each unit's sample_seq" bash -c "ls -l /proc/$(pid_of_daemon)/fd | grep -q sample_seq"
check "samples arrive through sysfs" seq_grows sensor1
check "coldroomctl list still shows live readings" bash -c "[ \$(coldroomctl list | grep -c '°C.*°C.* ready') -eq 2 ]"
systemctl stop coldroomd
rm /run/systemd/system/coldroomd.service.d/no-device.conf
systemctl daemon-reload

echo "== a request that outlived its unit: coldroomd ends it"
orphan=/sys/class/firmware/coldroom!CRS-200-ORPHAN-1.fw
echo "CRS-200 ORPHAN-1" >"$SIMDRV/new_device"
check "with no daemon, the new unit waits on the fallback" wait_for 20 test -e "$orphan/loading"
echo ORPHAN-1 >"$SIMDRV/del_device"
check "its request outlives it" test -e "$orphan/loading"
systemctl start coldroomd || die "coldroomd did not start"
check "coldroomd aborts the request no unit waits for" wait_for 20 test ! -e "$orphan"
check "journal: why" journal_has "no coldroom unit requests coldroom/CRS-200-ORPHAN-1.fw, refusing it"
systemctl stop coldroomd
unload_all

daemon_finish
