#!/bin/bash
# Guest: coldroomd on the real kernel. Installed by hand (the packages have
# their own test): the daemon starts after the modules and still serves the
# requests made before it ran; it serves model firmware with a per-serial
# calibration; readings reach D-Bus and coldroomctl without polling, read
# as records of /dev/coldroom, and alarms come as generic netlink events; a
# daemon killed in the middle of an upload recovers the unit when it comes
# back; a blob it cannot build leaves the unit failed with a readable
# reason; the setters work for root and not for others; SIGTERM is clean.
set -uo pipefail
. /usr/lib/vmtest/daemon-lib.sh
install_daemon

echo "== the modules first, then the daemon"
load_core
load_sim units=3 door_interval_s=0
check "three units" wait_for 20 bash -c "[ \"\$(ls '$CLASS' | wc -l)\" -eq 3 ]"
s0=$(sensor_of SIM-000000) s1=$(sensor_of SIM-000001) s2=$(sensor_of SIM-000002)
for s in $s0 $s1 $s2; do
	check "$s waits for its firmware" wait_for 20 test -e "$(fallback_dir "$s")/loading"
done
systemctl start coldroomd || die "coldroomd did not start"
need "coldroomd serves the pending requests" wait_for 60 all_ready
check "STATUS= summary" wait_for 10 status_is "3 units, 3 ready"
check "SIM-000002 got its calibration" bash -c "busctl get-property $BUS /org/coldroom/Sensors1/unit/$s2 $UNIT_IFACE FirmwareSource | grep -q SIM-000002.conf"
check "calibration label reached the unit" test "$(attr "$s2" label)" = "Loading dock freezer"
check "journal: structured outcome" bash -c "journalctl -b COLDROOM_OUTCOME=loaded COLDROOM_SERIAL=SIM-000001 --no-pager | grep -q uploaded"

echo "== readings on D-Bus"
check "object tree" bash -c "busctl tree $BUS | grep -q /org/coldroom/Sensors1/unit/$s0"
seq1=$(prop "$s0" SampleSeq)
check "samples keep arriving on D-Bus" wait_for 10 bash -c "[ \$(busctl get-property $BUS /org/coldroom/Sensors1/unit/$s0 $UNIT_IFACE SampleSeq | cut -d' ' -f2) -gt $seq1 ]"
check "Temp1Status ok" test "$(prop "$s0" Temp1Status)" = 1
check "D-Bus Temp1 near sysfs temp1" bash -c "d=\$(busctl get-property $BUS /org/coldroom/Sensors1/unit/$s0 $UNIT_IFACE Temp1 | cut -d' ' -f2); k=\$(cat $CLASS/$s0/temp1); [ \$((d - k)) -lt 3000 ] && [ \$((k - d)) -lt 3000 ]"
check "GetReadings has every unit" bash -c "busctl call $BUS /org/coldroom/Sensors1 org.coldroom.Sensors1.Manager GetReadings | grep -q '^auaiaiayayayatat 3 0 1 2 '"
coldroomctl list
check "coldroomctl list shows live readings" bash -c "[ \$(coldroomctl list | grep -c '°C.*°C.* ready') -eq 3 ]"
check "coldroomctl --json list" bash -c "coldroomctl --json list | grep -q '\"temp1_status\":\"ok\"'"
check "coldroomctl watch redraws on new samples" bash -c "timeout 30 coldroomctl --count 2 watch | grep -q $s0"
# The daemon reads on notification only: it sleeps between samples.
cpu1=$(awk '{print $14 + $15}' "/proc/$(systemctl show -p MainPID --value coldroomd)/stat")
sleep 5
cpu2=$(awk '{print $14 + $15}' "/proc/$(systemctl show -p MainPID --value coldroomd)/stat")
check "idle daemon uses almost no CPU ($((cpu2 - cpu1)) ticks in 5 s)" test $((cpu2 - cpu1)) -lt 50

echo "== setters"
check "root sets a label" coldroomctl set "$s0" "label=Freezer VM"
check "label reached sysfs" test "$(attr "$s0" label)" = "Freezer VM"
check "root sets thresholds" coldroomctl set "$s0" temp1.min=-30C temp1.max=-10C temp1.hyst=0.5C
check "thresholds reached sysfs" test "$(attr "$s0" temp1_min) $(attr "$s0" temp1_max)" = "-30000 -10000"
# The kernel judges each single write, so the daemon orders them: this
# one is valid only if the band is widened before the hysteresis grows.
check "a change that widens the band first is applied" \
	coldroomctl set "$s0" temp1.min=-11C temp1.max=0C temp1.hyst=2C
check "and reached sysfs" test "$(attr "$s0" temp1_min) $(attr "$s0" temp1_max) $(attr "$s0" temp1_hyst)" = "-11000 0 2000"
coldroomctl set "$s0" temp1.min=-30C temp1.max=-10C temp1.hyst=0.5C
coldroomctl set "$s0" temp1.min=-20C temp1.max=-18C temp1.hyst=1C; rc=$?
check "an empty clear band is refused (exit 6)" test "$rc" = 6
check "and changes nothing" test "$(attr "$s0" temp1_min) $(attr "$s0" temp1_max) $(attr "$s0" temp1_hyst)" = "-30000 -10000 500"
echo "== bulk path: readings from /dev/coldroom, events from generic netlink"
pid=$(systemctl show -p MainPID --value coldroomd)
check "ReadingSource is the device" test "$(manager_prop ReadingSource)" = device
check "EventSource is netlink" test "$(manager_prop EventSource)" = netlink
check "journal: reading source /dev/coldroom" bash -c "journalctl -b -u coldroomd --no-pager | grep -q 'reading source: /dev/coldroom'"
check "the daemon holds /dev/coldroom open" bash -c "ls -l /proc/$pid/fd | grep -q /dev/coldroom"
check "and no sample_seq file" bash -c "! ls -l /proc/$pid/fd | grep -q sample_seq"
seq1=$(prop "$s0" SampleSeq)
check "samples arrive through the device" wait_for 10 bash -c "[ \$(busctl get-property $BUS /org/coldroom/Sensors1/unit/$s0 $UNIT_IFACE SampleSeq | cut -d' ' -f2) -gt $seq1 ]"
# alarm_lines WHAT: the journal's lines of $s0's temp1 alarm WHAT since $t0.
alarm_lines() {
	journalctl -b -u coldroomd --no-pager --since "@$t0" | grep -c "$s0 (.*): temp1 alarm $1 at"
}
k=$(attr "$s0" temp1)
t0=$(date +%s)
sleep 1	# --since has whole seconds
# Below its minimum: raise the maximum first so min < max holds throughout.
echo $((k + 20000)) >"$CLASS/$s0/temp1_max"
echo $((k + 10000)) >"$CLASS/$s0/temp1_min"
check "an alarm (from netlink) reaches the journal" wait_for 10 bash -c "$(declare -f alarm_lines); s0=$s0 t0=$t0; [ \$(alarm_lines raised) -ge 1 ]"
check "and reaches Temp1Alarm" wait_for 10 bash -c "busctl get-property $BUS /org/coldroom/Sensors1/unit/$s0 $UNIT_IFACE Temp1Alarm | grep -q true"
echo -30000 >"$CLASS/$s0/temp1_min"
echo $((k + 30000)) >"$CLASS/$s0/temp1_max"
check "the alarm clears" wait_for 10 bash -c "$(declare -f alarm_lines); s0=$s0 t0=$t0; [ \$(alarm_lines cleared) -ge 1 ]"
check "raised and cleared are logged once each ($(alarm_lines raised), $(alarm_lines cleared))" \
	test "$(alarm_lines raised) $(alarm_lines cleared)" = "1 1"
coldroomctl set "$s0" temp1.min=-30C temp1.max=-10C

echo "== thermal frames (from the device's ring)"
imager= plain=
for s in $s0 $s1 $s2; do
	case "$(attr "$s" model)" in
	CRS-210T) imager=$s ;;
	*) plain=$s ;;
	esac
done
need "a unit with an imager ($imager) and one without ($plain)" test -n "$imager" -a -n "$plain"
check "coldroomctl frame writes an image" wait_for 20 coldroomctl frame "$imager" -o /tmp/frame.png
check "the image is a PNG" bash -c "head -c 8 /tmp/frame.png | od -An -tx1 | tr -d ' \n' | grep -qx 89504e470d0a1a0a"
check "--json says its geometry" bash -c "coldroomctl --json frame $imager -o /tmp/frame2.png | grep -q '\"width\":32,\"height\":24'"
check "GetFrame hands over a file descriptor, no pixels" bash -c "busctl call $BUS /org/coldroom/Sensors1/unit/$imager $UNIT_IFACE GetFrame | grep -q '^hqqtt [0-9]* 32 24 '"
coldroomctl frame "$plain" -o /tmp/none.png; rc=$?
check "a unit without an imager is refused (exit $rc)" test "$rc" = 1
check "with a reason" bash -c "coldroomctl frame $plain -o /tmp/none.png 2>&1 | grep -q 'no thermal frame'"
check "and nothing is written" test ! -e /tmp/none.png
check "anyone may take a frame (the policy)" \
	setpriv --reuid=65534 --regid=65534 --clear-groups coldroomctl frame "$imager" -o /tmp/nobody.png

coldroomctl set "$s0" interval=50; rc=$?
check "a bad interval is refused (exit 6)" test "$rc" = 6
setpriv --reuid=65534 --regid=65534 --clear-groups coldroomctl set "$s0" label=Mine; rc=$?
check "nobody may not set (exit 5)" test "$rc" = 5
check "nobody may list" setpriv --reuid=65534 --regid=65534 --clear-groups coldroomctl list

echo "== killed in the middle of an upload"
systemctl kill -s KILL coldroomd
check "coldroomd is dead" wait_for 10 bash -c "! systemctl -q is-active coldroomd"
echo 1 >"$CLASS/$s1/firmware_reload"
dir=$(fallback_dir "$s1")
check "the unit asks again" wait_for 20 test -e "$dir/loading"
# What a daemon killed mid-upload leaves behind.
echo 1 >"$dir/loading"
head -c 40 /usr/lib/firmware/coldroom/CRS-210T.fw >"$dir/data"
check "the unit is stuck loading" state_is "$s1" loading
systemctl start coldroomd || die "coldroomd did not restart"
need "the restarted daemon recovers the unit" wait_for 60 state_is "$s1" ready

echo "== a unit the daemon cannot serve"
printf 'model = CRS-999\n' >/etc/coldroom/calibration/SIM-000002.conf
coldroomctl firmware "$s2" reload
check "the unit fails" wait_for 30 state_is "$s2" failed
coldroomctl firmware "$s2"
check "coldroomctl shows the reason" bash -c "coldroomctl firmware $s2 | grep -q \"'model' cannot be set in an override file\""
check "coldroomctl list shows it" bash -c "coldroomctl list | grep $s2 | grep -q failed"
check "journal: failed outcome" bash -c "journalctl -b COLDROOM_OUTCOME=failed --no-pager | grep -q SIM-000002"
rm /etc/coldroom/calibration/SIM-000002.conf
coldroomctl firmware "$s2" reload
check "fixed calibration: ready again" wait_for 30 state_is "$s2" ready
check "the reason is gone" test -z "$(prop "$s2" FirmwareError)"

echo "== reload and stop"
echo "Bogus=1" >>/etc/coldroom/coldroomd.conf
systemctl reload coldroomd; rc=$?
check "systemctl reload fails on a bad config (exit $rc)" test "$rc" != 0
check "the reason is in the unit's journal" bash -c "journalctl -b -u coldroomd --no-pager | grep -q 'stays in force'"
check "a bad config is reported" wait_for 10 bash -c "journalctl -b -u coldroomd --no-pager | grep -q 'keeping the old configuration'"
check "and the daemon keeps running" systemctl -q is-active coldroomd
config_error() {
	busctl get-property org.coldroom.Sensors1 /org/coldroom/Sensors1 \
		org.coldroom.Sensors1.Manager ConfigError
}
# No waiting: systemctl reload returns once the reload is done.
check "ConfigError names the bad key as soon as reload returns" bash -c "$(declare -f config_error); config_error | grep -q Bogus"
coldroomctl reload; rc=$?
check "coldroomctl reload says the config is bad (exit 1)" test "$rc" = 1
sed -i '/^Bogus=1$/d' /etc/coldroom/coldroomd.conf
check "systemctl reload of a good config succeeds" systemctl reload coldroomd
check "ConfigError is empty as soon as reload returns" bash -c "$(declare -f config_error); config_error | grep -qx 's \"\"'"
systemctl stop coldroomd
check "SIGTERM ends it cleanly" bash -c "[ \"\$(systemctl show -p Result --value coldroomd)\" = success ]"

daemon_finish
