#!/bin/bash
# Guest: the product as a user gets it. The .debs are installed with apt,
# DKMS builds the modules for the running kernel, loading the simulator
# makes units appear, udev starts coldroomd, which serves the firmware the
# kernel does not find in /lib/firmware and publishes the units on D-Bus;
# a non-root user reads but cannot set; a restart loses no unit; apt purge
# removes everything, the DKMS modules included.
#
# Files from the host (run.sh): /usr/lib/vmtest/packages/*.deb and
# /usr/lib/vmtest/product-lib.sh.
set -uo pipefail

. /usr/lib/vmtest/product-lib.sh

begin

echo "== install with apt"
install_debs
check "groups coldroom and coldroom-admin exist" getent group coldroom coldroom-admin
check "the package did not start coldroomd (udev does)" \
	bash -c '! systemctl is-active --quiet coldroomd'
check "the D-Bus policy is installed" test -f /usr/share/dbus-1/system.d/$BUS.conf

echo "== the service sandbox allows the firmware fallback"
# With coldroomd masked, serve a unit by hand from a transient service that
# has exactly coldroomd.service's sandbox: CAP_SYS_RAWIO, writable
# /sys/devices, netlink, the system-call filter.
systemctl mask --runtime --quiet coldroomd.service
modprobe coldroom_sim units=1 door_interval_s=0 || die "modprobe coldroom_sim failed"
fwname=$(cat "$CLASS/sensor0/firmware_name")
fallback=/sys/class/firmware/${fwname//\//!}
check "sensor0 waits on the fallback $fallback" wait_for 30 test -e "$fallback/loading"
sandbox=()
while IFS= read -r line; do
	sandbox+=(-p "$line")
done < <(sed -n '/^\[Service\]/,/^\[/p' /lib/systemd/system/coldroomd.service |
	grep -E '^[A-Za-z]+=' |
	grep -vE '^(Type|NotifyAccess|ExecStart|ExecReload|Restart|RestartSec|WatchdogSec)=')
check "the sandbox has settings (${#sandbox[@]} words)" test "${#sandbox[@]}" -gt 20
check "a sandboxed shell serves the model blob through $fallback" \
	systemd-run --quiet --wait --collect "${sandbox[@]}" /bin/sh -c \
	"echo 1 >'$fallback/loading' && cat /usr/lib/firmware/coldroom/CRS-200.fw >'$fallback/data' && echo 0 >'$fallback/loading'"
check "sensor0 is ready after the sandboxed upload" \
	wait_for 20 bash -c "[ \"\$(cat $CLASS/sensor0/firmware_state)\" = ready ]"
modprobe -r coldroom_sim || fail "modprobe -r coldroom_sim"
systemctl unmask --runtime --quiet coldroomd.service

echo "== units appear, udev starts coldroomd"
# One unit has a site blob in /lib/firmware (the kernel loads it directly);
# coldroomd must serve the other two from the packaged model firmware.
mkdir -p /lib/firmware/coldroom
cat >/tmp/site.fwsrc <<'SRC'
model = CRS-200
serial = SIM-000002
version = 2.0.0
temp1.gain_ppm = 1000000
temp1.offset_mdeg = 0
temp2.gain_ppm = 1000000
temp2.offset_mdeg = 0
label = Site blob
payload = 00112233
SRC
check "coldroom-fwtool builds a site blob" \
	coldroom-fwtool build /tmp/site.fwsrc -o /lib/firmware/coldroom/CRS-200-SIM-000002.fw
check "coldroom-fwtool verifies it for its unit" coldroom-fwtool verify \
	/lib/firmware/coldroom/CRS-200-SIM-000002.fw --model CRS-200 --serial SIM-000002
# A short recording interval, as a site may choose, so that rows come soon.
echo RecordIntervalSec=10 >>/etc/coldroom/coldroomd.conf
modprobe coldroom_sim units=3 door_interval_s=0 || die "modprobe coldroom_sim units=3 failed"
check "udev started coldroomd" wait_for 60 systemctl is-active --quiet coldroomd
check "all three units have firmware" wait_for 90 all_ready 3
s2=$(sensor_of SIM-000002)
check "the site blob was loaded directly (version 2.0.0)" \
	test "$(cat "$CLASS/$s2/firmware_version" 2>/dev/null)" = 2.0.0
for serial in SIM-000000 SIM-000001; do
	s=$(sensor_of "$serial")
	check "coldroomd served $serial from the model firmware" \
		bash -c "journalctl -b -u coldroomd --no-pager -o cat | grep -q '$serial'"
	check "$serial runs packaged firmware ($(cat "$CLASS/$s/firmware_version" 2>/dev/null))" \
		test -n "$(cat "$CLASS/$s/firmware_version" 2>/dev/null)"
done
# A unit has no reading (ENODATA) until its first sample after it is ready.
wait_for 10 cat "$CLASS/sensor0/temp1" >/dev/null 2>&1
temp1=$(cat "$CLASS/sensor0/temp1" 2>/dev/null || echo none)
check "sensor0/temp1 is a cold-room value: $temp1" \
	bash -c "[[ '$temp1' =~ ^-?[0-9]+$ ]] && [ '$temp1' -ge -40000 ] && [ '$temp1' -le 15000 ]"

echo "== systemctl status, busctl, coldroomctl, sensors"
systemctl status coldroomd --no-pager -n 0 | head -n 12
status_text=$(systemctl show -p StatusText --value coldroomd)
check "coldroomd is active with a STATUS line: '$status_text'" \
	bash -c "systemctl is-active --quiet coldroomd && [[ '$status_text' == *3* ]]"
check "coldroomd runs with only CAP_SYS_RAWIO" \
	bash -c "systemctl show -p CapabilityBoundingSet --value coldroomd | grep -qx 'cap_sys_rawio'"
paths=$(unit_paths)
check "busctl: three unit objects on $BUS ($(echo $paths))" test "$(echo "$paths" | grep -c .)" -eq 3
first_path=$(echo "$paths" | head -n 1)
check "busctl: a unit's Serial property reads" \
	bash -c "busctl --system get-property $BUS '$first_path' $UNIT_IFACE Serial | grep -q SIM-"
coldroomctl list >/tmp/list.out 2>&1
cat /tmp/list.out
check "coldroomctl list shows the three units" \
	bash -c "grep -c -E 'SIM-00000[012]|sensor[012]' /tmp/list.out | grep -qx 3"
sensors >/tmp/sensors.out 2>&1
check "sensors lists three coldroom chips" \
	bash -c "grep -c '^coldroom-' /tmp/sensors.out | grep -qx 3"
check "udevd did not complain about 60-coldroom.rules" \
	bash -c "! journalctl -b -u systemd-udevd --no-pager -o cat | grep -q 60-coldroom.rules"

echo "== the record"
check "coldroomd started the recorder" wait_for 30 systemctl is-active --quiet coldroom-recorder
check "the recorder runs as coldroom-recorder with no capability" bash -c \
	"[ \"\$(systemctl show -p User --value coldroom-recorder)\" = coldroom-recorder ] &&
	 [ -z \"\$(systemctl show -p CapabilityBoundingSet --value coldroom-recorder)\" ]"
check "the record's directory is 0700, the recorder's ($(stat -c '%a %U' /var/lib/coldroom))" \
	test "$(stat -c '%a %U' /var/lib/coldroom)" = "700 coldroom-recorder"
check "another user cannot read the record" \
	bash -c "! runuser -u nobody -- cat /var/lib/coldroom/record.db >/dev/null 2>&1"
record_rows() { coldroomctl record verify | sed -n 's/.*intact: \([0-9]*\) record rows.*/\1/p'; }
rows_at_least() { [ "$(record_rows)" -ge "$1" ] 2>/dev/null; }
# Three units, two probes: six rows per interval. The first interval can
# be one the units had no sample in yet (n = 0): the edits below need a
# row with samples.
has_sampled_rows() {
	[ "$(sqlite3 -readonly /var/lib/coldroom/record.db "SELECT count(*) FROM record WHERE n > 0")" -ge 1 ] 2>/dev/null
}
check "an interval later the record has the units' rows" wait_for 60 rows_at_least 6
check "and rows with samples" wait_for 60 has_sampled_rows
out=$(coldroomctl record verify); rc=$?
check "coldroomctl record verify: $out" test "$rc" -eq 0
recorder_status=$(systemctl show -p StatusText --value coldroom-recorder)
check "the recorder's STATUS line: '$recorder_status'" \
	bash -c "[[ '$recorder_status' == 'recording 3 units every 10 s'* ]]"

echo "== the record edited behind the product's back, and the recorder killed"
# A consistent copy of the live record (sqlite3's backup), edited as an
# intruder with root would: each edit must make verify fail (exit 7).
sqlite3 /var/lib/coldroom/record.db ".backup /tmp/record.db" || fail "sqlite3 .backup"
tampered() { # tampered SQL|--truncate: coldroomctl record verify of an edited copy
	cp /tmp/record.db /tmp/tampered.db
	if [ "$1" = --truncate ]; then
		truncate -s $(($(stat -c %s /tmp/tampered.db) / 2)) /tmp/tampered.db
	elif [ "$(sqlite3 /tmp/tampered.db "$1; SELECT total_changes();")" -eq 0 ]; then
		out="the edit changed no row" rc=0
		return
	fi
	out=$(coldroomctl --database /tmp/tampered.db record verify 2>&1)
	rc=$?
}
tampered "UPDATE record SET max = max + 1 WHERE seq = (SELECT min(seq) FROM record WHERE n > 0)"
check "one temperature changed: caught ($out)" bash -c "[ $rc -eq 7 ] && [[ '$out' == *changed* ]]"
tampered "DELETE FROM record WHERE seq = 3"
check "one row deleted: caught ($out)" bash -c "[ $rc -eq 7 ] && [[ '$out' == *deleted* ]]"
tampered "UPDATE record SET seq = -1 WHERE seq = 1; UPDATE record SET seq = 1 WHERE seq = 2; UPDATE record SET seq = 2 WHERE seq = -1"
check "two rows swapped: caught ($out)" test "$rc" -eq 7
tampered --truncate
check "the file truncated: caught ($out)" test "$rc" -eq 7
# kill -9 while it writes: systemd restarts it, nothing is damaged.
for _ in 1 2 3 4 5; do
	systemctl kill -s KILL coldroom-recorder
	sleep 2	# within the start limit (5 starts in 10 s)
	wait_for 30 systemctl is-active --quiet coldroom-recorder
done
check "after 5 SIGKILLs the recorder runs again" systemctl is-active --quiet coldroom-recorder
check "PRAGMA integrity_check: ok" \
	test "$(sqlite3 /var/lib/coldroom/record.db 'PRAGMA integrity_check')" = ok
out=$(coldroomctl record verify); rc=$?
check "record verify: $out" test "$rc" -eq 0

echo "== a non-root user reads but cannot set; an admin sets with their password"
check "polkit has the product's actions" bash -c \
	"pkaction | grep -qx org.coldroom.sensors.configure && pkaction | grep -qx org.coldroom.sensors.acknowledge"
check "groups coldroom-viewer, -auditor and -operator exist" \
	getent group coldroom-viewer coldroom-auditor coldroom-operator
useradd -M -s /bin/sh -G coldroom-viewer viewer || fail "useradd viewer"
useradd -M -s /bin/sh -G coldroom-admin plantadmin || fail "useradd plantadmin"
admin_pw='Plant-admin-4711'
echo "plantadmin:$admin_pw" | chpasswd || fail "chpasswd plantadmin"
# polkitd takes coldroomctl's fallback agent only in a login session: people log in.
check "systemd-logind runs" wait_for 30 systemctl is-active --quiet systemd-logind
check "a person's commands run in their own logind session (su -l, pam_systemd)" \
	as_person viewer nothing sh -c 'loginctl show-session "$XDG_SESSION_ID" -p Name --value | grep -qx viewer'
label=$(cat "$CLASS/sensor0/label")
check "viewer: coldroomctl list works" runuser -u viewer -- coldroomctl list
check "viewer: busctl reads a property" \
	runuser -u viewer -- busctl --system get-property $BUS "$first_path" $UNIT_IFACE Serial
runuser -u viewer -- coldroomctl set sensor0 label=Intruder
rc=$?
check "viewer: coldroomctl set is refused as access denied (exit status $rc, want 5)" test "$rc" -eq 5
err=$(runuser -u viewer -- busctl --system call $BUS "$first_path" $UNIT_IFACE SetLabel s Intruder 2>&1)
check "viewer: SetLabel over D-Bus is access denied ($err)" \
	bash -c "[[ '$err' == *'ccess denied'* || '$err' == *AccessDenied* ]]"
check "viewer: the label is unchanged" test "$(cat "$CLASS/sensor0/label")" = "$label"
out=$(runuser -u plantadmin -- coldroomctl set sensor0 label=Freezer-B 2>&1); rc=$?
check "plantadmin without a terminal: refused, no one could type the password ($out)" \
	test "$rc" -eq 5
check "plantadmin at a terminal types the password: coldroomctl set works" \
	as_person plantadmin "$admin_pw" coldroomctl set sensor0 label=Freezer-B
check "plantadmin: the label reached sysfs" \
	wait_for 10 bash -c "[ \"\$(cat $CLASS/sensor0/label)\" = Freezer-B ]"

echo "== alarms: the delay, the notification units, an operator's acknowledgement"
# The notification units are transient (no unit file); a site's drop-in
# for the template applies to them. This one replaces the program with one
# that writes what the unit received where the test can read it, runs the
# real coldroom-notify in the unit's sandbox, and stays a while so that the
# running instance can be inspected. The units run as coldroom-notify with
# the file system read-only: the drop-in opens the one directory it writes
# to. notify.conf names a webhook with a token; nothing listens on port 9.
install -d -o coldroom-notify -m 0700 /run/coldroom-test
cp -p /etc/coldroom/notify.conf /tmp/notify.conf.orig
echo 'WEBHOOK_URL=http://127.0.0.1:9/hooks/cold-room?token=SECRET-TOKEN-4711' >>/etc/coldroom/notify.conf
for level in alarm escalate; do
	mkdir -p /etc/systemd/system/coldroom-$level@.service.d
	cat >/etc/systemd/system/coldroom-$level@.service.d/test.conf <<UNIT
[Service]
ReadWritePaths=/run/coldroom-test
ExecStart=
ExecStart=/bin/sh -c 'env | grep ^COLDROOM_ | sort >/run/coldroom-test/$level.env.new && mv /run/coldroom-test/$level.env.new /run/coldroom-test/$level.env; /usr/libexec/coldroom/coldroom-notify $level; sleep 60'
UNIT
done
systemctl daemon-reload
printf 'AlarmDelaySec=5\nEscalateAfterSec=6\n' >>/etc/coldroom/coldroomd.conf
check "systemctl reload coldroomd takes the alarm settings" systemctl reload coldroomd
useradd -M -s /bin/sh -c "Olga Operator,Room 2" -G coldroom-operator operator1 ||
	fail "useradd operator1"
operator_pw='Op-one-0815'
echo "operator1:$operator_pw" | chpasswd || fail "chpasswd operator1"
s1=$(sensor_of SIM-000001)
# What a shell or an EnvironmentFile= would take apart must arrive as it is.
awkward='Room "B" $HOME \x41'
check "a label with quotes, a dollar and a backslash is set" \
	coldroomctl set SIM-000001 "label=$awkward"
old_band="temp1.min=$(cat "$CLASS/$s1/temp1_min") temp1.max=$(cat "$CLASS/$s1/temp1_max") temp1.hyst=$(cat "$CLASS/$s1/temp1_hyst")"
# The simulated room is near -18 C: a band of -10 C .. 0 C puts probe 1 out.
out_at=$(date +%s.%N)
check "plantadmin moves SIM-000001's band away from its room" \
	as_person plantadmin "$admin_pw" coldroomctl set SIM-000001 temp1.min=-10C temp1.max=0C temp1.hyst=0.5C
check "the kernel sees the probe out of band" wait_for 20 grep -qx 1 "$CLASS/$s1/temp1_alarm"
check "no alarm before the delay has passed" bash -c "coldroomctl alarms | grep -q 'no open alarms'"
check "coldroomctl alarms lists it as raised" wait_for 30 \
	bash -c "coldroomctl alarms | grep SIM-000001 | grep -q raised"
check "systemctl status says an alarm awaits acknowledgement" wait_for 10 \
	bash -c "systemctl show -p StatusText --value coldroomd | grep -q ', 1 not acknowledged'"
raised_after=$(awk -v a="$out_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", b - a }')
check "it was raised after the 5 s delay, not at once (${raised_after} s)" test "$raised_after" -ge 4
coldroomctl alarms
check "coldroom-alarm@ ran with the alarm's facts" wait_for 30 test -s /run/coldroom-test/alarm.env
cat /run/coldroom-test/alarm.env
check "its environment names the unit, the probe and level 1" bash -c \
	"grep -qx COLDROOM_SERIAL=SIM-000001 /run/coldroom-test/alarm.env &&
	 grep -qx COLDROOM_PROBE=1 /run/coldroom-test/alarm.env &&
	 grep -qx COLDROOM_ALARM_LEVEL=1 /run/coldroom-test/alarm.env &&
	 grep -q '^COLDROOM_TEMP_MDEG=-' /run/coldroom-test/alarm.env"
check "its label arrived verbatim" grep -qxF "COLDROOM_LABEL=$awkward" /run/coldroom-test/alarm.env
alarm_unit=coldroom-alarm@SIM-000001-1.service
systemctl show --no-pager -p Transient,DropInPaths,Description,ExecStart "$alarm_unit"
check "$alarm_unit is a transient unit, named as before" \
	bash -c "[ \"\$(systemctl show -p Transient --value $alarm_unit)\" = yes ]"
check "the template's drop-in applies to the transient instance" bash -c \
	"systemctl show -p DropInPaths --value $alarm_unit | grep -q coldroom-alarm@.service.d/test.conf"
# The sandbox the property table sets, as systemd applies it to the running instance.
systemd-analyze security --no-pager "$alarm_unit" >/tmp/alarm-security.txt 2>&1
grep -E 'PrivateTmp=|PrivateDevices=|ProtectHome=|Overall exposure' /tmp/alarm-security.txt
check "systemd-analyze security: PrivateTmp, PrivateDevices and ProtectHome in force" bash -c \
	"grep -q '✓ PrivateTmp=' /tmp/alarm-security.txt &&
	 grep -q '✓ PrivateDevices=' /tmp/alarm-security.txt &&
	 grep -q '✓ ProtectHome=' /tmp/alarm-security.txt"
check "$alarm_unit runs as coldroom-notify, not root" bash -c \
	"[ \"\$(systemctl show -p User --value $alarm_unit)\" = coldroom-notify ] &&
	 [ \"\$(stat -c %U /run/coldroom-test/alarm.env)\" = coldroom-notify ]"
check "systemd-analyze security: NoNewPrivileges, ProtectSystem=strict, address families in force" bash -c \
	"grep -q '✓ NoNewPrivileges=' /tmp/alarm-security.txt &&
	 grep -q '✓ ProtectSystem=' /tmp/alarm-security.txt &&
	 grep -q '✓ RestrictAddressFamilies=~AF_PACKET' /tmp/alarm-security.txt"
systemctl show --no-pager -p MemoryMax,TasksMax,NoNewPrivileges,ProtectSystem "$alarm_unit"
check "$alarm_unit: MemoryMax=64M, TasksMax=16" bash -c \
	"[ \"\$(systemctl show -p MemoryMax --value $alarm_unit)\" = 67108864 ] &&
	 [ \"\$(systemctl show -p TasksMax --value $alarm_unit)\" = 16 ]"
check "unanswered, coldroom-escalate@ ran at level 2" wait_for 30 \
	bash -c "grep -qx COLDROOM_ALARM_LEVEL=2 /run/coldroom-test/escalate.env 2>/dev/null"
systemctl status --no-pager 'coldroom-alarm@*' 'coldroom-escalate@*' 2>&1 | head -n 20
# Acknowledging is a signature: the operator's own password, typed at a terminal.
still_open() { coldroomctl alarms | grep SIM-000001 | grep -qv acknowledged; }
as_person viewer nothing coldroomctl ack SIM-000001 1 --comment "not mine"
rc=$?
check "viewer: coldroomctl ack is refused as access denied (exit status $rc, want 5)" test "$rc" -eq 5
out=$(runuser -u operator1 -- coldroomctl ack SIM-000001 1 --comment "no agent" 2>&1); rc=$?
check "operator1 with no terminal, so no agent: refused ($out)" test "$rc" -eq 5
as_person operator1 'not-my-password' coldroomctl ack SIM-000001 1 --comment "wrong password"
rc=$?
check "operator1 types a wrong password: refused (exit status $rc, want 5)" test "$rc" -eq 5
check "the alarm is still open, unacknowledged" still_open
events() {
	local now
	now=$(date +%s)
	busctl --system call org.coldroom.Recorder1 /org/coldroom/Recorder1 org.coldroom.Recorder1 \
		GetEvents stt SIM-000001 $(((now - 3600) * 1000000)) $(((now + 60) * 1000000))
}
refused_acks_are() {
	[ "$(events | grep -o '"refused" 1 false 0 "[a-z0-9]*" "org.coldroom.sensors.acknowledge"' |
	     grep -c .)" = "$1" ]
}
no_ack_in_trail() { ! events | grep -q alarm-acknowledged; }
check "the three attempts are each in the audit trail as refused" wait_for 20 refused_acks_are 3
events | grep -o '"refused" [^"]*"[^"]*" "[^"]*" "" "" "[^"]*"'
check "and only as refused: no acknowledgement in the trail" no_ack_in_trail
check "operator1 (coldroom-operator) types the password: coldroomctl ack works" \
	as_person operator1 "$operator_pw" coldroomctl ack SIM-000001 1 --comment "door closed, stock checked"
coldroomctl alarms
check "the alarm is acknowledged by operator1 with the comment" bash -c \
	"coldroomctl alarms | grep SIM-000001 | grep acknowledged | grep -q 'operator1: door closed, stock checked'"
check "back in its band" as_person plantadmin "$admin_pw" coldroomctl set SIM-000001 $old_band
check "after the delay the alarm is closed" wait_for 30 \
	bash -c "coldroomctl alarms | grep -q 'no open alarms'"
check "the acknowledgement is in coldroomd's journal with who" bash -c \
	"journalctl -b -u coldroomd --no-pager -o cat | grep -q 'acknowledged .* by operator1: door closed'"
audit_has_ack() {
	local now
	now=$(date +%s)
	busctl --system call org.coldroom.Recorder1 /org/coldroom/Recorder1 org.coldroom.Recorder1 \
		GetEvents stt SIM-000001 $(((now - 3600) * 1000000)) $(((now + 60) * 1000000)) |
		grep -q '"alarm-acknowledged" 1 true -[0-9]* "operator1" .*door closed, stock checked'
}
check "the record's audit trail has the acknowledgement: who, the reading, the comment" \
	wait_for 20 audit_has_ack
signed_ack() {
	events | grep -q 'door closed, stock checked; signed by Olga Operator (operator1), meaning: acknowledged'
}
check "with the signature's manifestation: printed name, user, meaning" signed_ack
# The recorder asks polkit about its caller as the action's owner.
check "operator1 signs SIM-000001's day report, typing the password" \
	as_person operator1 "$operator_pw" coldroomctl sign SIM-000001 "$(date +%F)" reviewed \
	--comment "excursion handled"
report_signed() {
	events | grep -q '"report-signed" 0 false 0 "operator1" "reviewed" "" "'"$(date +%F)"'" "day report of [0-9-]* signed by Olga Operator (operator1), meaning: reviewed: excursion handled"'
}
check "the report's signature is in the audit trail" wait_for 20 report_signed
check "viewer: coldroomctl history reads the record" \
	bash -c "runuser -u viewer -- coldroomctl history SIM-000001 --since -1h | grep -q ' ok\$'"
check "viewer: coldroomctl report writes the day as a PDF" bash -c \
	"runuser -u viewer -- coldroomctl report --unit SIM-000001 -o /tmp/day.pdf &&
	 [ \"\$(head -c 5 /tmp/day.pdf)\" = %PDF- ]"
check "and as a PNG" bash -c \
	"runuser -u viewer -- coldroomctl report --unit SIM-000001 -o /tmp/day.png &&
	 [ \"\$(head -c 4 /tmp/day.png | tail -c 3)\" = PNG ]"
check "viewer: coldroomctl history ends with each probe's MKT and its time without data" bash -c \
	"runuser -u viewer -- coldroomctl history SIM-000001 --since -1h |
	 grep -A5 '^Mean kinetic temperature (dH 83.144 kJ/mol)' | grep -qE '^ +1 .* -?[0-9]+\.[0-9]{3} '"
# The excursion is in the report once its intervals are written for good
# (two intervals after they end), with the alarm's acknowledgement. A report
# made while only its first interval is written ends it there, before the
# alarm was raised: wait for the acknowledgement to be linked to it.
exc_written() {
	runuser -u viewer -- coldroomctl report --excursions --since -1h --unit SIM-000001 \
		-o /tmp/exc.csv >/dev/null && grep -q '^excursion,SIM-000001,' /tmp/exc.csv &&
		grep -q '^alarm,SIM-000001,.*,alarm-acknowledged,' /tmp/exc.csv
}
check "viewer: report --excursions lists the excursion (CSV)" wait_for 240 exc_written
cat /tmp/exc.csv /tmp/exc.csv.manifest
check "with its band, the one in force then (-10 .. 0 C), and its MKT" \
	grep -qE '^excursion,SIM-000001,.*,-10\.000,0\.000,-?[0-9]+\.[0-9]{3},[0-9]+,[0-9]+,' /tmp/exc.csv
check "with operator1's acknowledgement, comment and signature" \
	grep -qE '^alarm,SIM-000001,.*,alarm-acknowledged,-?[0-9.]+,operator1,.*door closed, stock checked; signed by Olga Operator \(operator1\), meaning: acknowledged' /tmp/exc.csv
check "its manifest holds its SHA-256" \
	grep -qx "sha256: $(sha256sum /tmp/exc.csv | cut -d' ' -f1)" /tmp/exc.csv.manifest
out=$(runuser -u viewer -- coldroomctl record verify-export /tmp/exc.csv); rc=$?
check "viewer: record verify-export: it matches the record ($out)" test "$rc" -eq 0
check "and as a PDF that verifies" bash -c \
	"runuser -u viewer -- coldroomctl report --excursions --since -1h --unit SIM-000001 -o /tmp/exc.pdf &&
	 [ \"\$(head -c 5 /tmp/exc.pdf)\" = %PDF- ] &&
	 runuser -u viewer -- coldroomctl record verify-export /tmp/exc.pdf"
sed -i 's/operator1/operator9/' /tmp/exc.csv
out=$(runuser -u viewer -- coldroomctl record verify-export /tmp/exc.csv); rc=$?
check "an edited export: CHANGED, exit status 7 ($out)" test "$rc" -eq 7
rm -rf /etc/systemd/system/coldroom-alarm@.service.d /etc/systemd/system/coldroom-escalate@.service.d
systemctl daemon-reload

echo "== probe health and calibration: alarms of their own kind"
# Short enough for a test; the simulator's debugfs freezes or unplugs a probe.
cp /etc/coldroom/coldroomd.conf /tmp/coldroomd.conf.before-health
printf 'StuckSec=20\nStuckBandMdeg=0\nFaultDelaySec=5\nSilentIntervals=3\nSilentMinSec=20\n' \
	>>/etc/coldroom/coldroomd.conf
check "systemctl reload coldroomd takes the probe-health settings" systemctl reload coldroomd
s0=$(sensor_of SIM-000000)
dbg=/sys/kernel/debug/coldroom_sim/SIM-000000
alarm_of() { # alarm_of SERIAL PROBE KIND STATE: coldroomctl alarms lists it
	coldroomctl alarms | awk -v s="$1" -v p="$2" -v k="$3" -v st="$4" \
		'$2 == s && $4 == p && $5 == k && $6 == st { f = 1 } END { exit !f }'
}
check "the simulator's probe 1 of SIM-000000 repeats itself" bash -c "echo 1 >$dbg/stuck"
check "a frozen probe raises stuck" wait_for 120 alarm_of SIM-000000 1 stuck raised
check "and its probe 2, moving, does not" bash -c "! alarm_of SIM-000000 2 stuck raised"
echo 0 >"$dbg/stuck"
check "the simulator unplugs probe 2 of SIM-000000" bash -c "echo 2 >$dbg/disconnect"
check "an unplugged probe raises fault" wait_for 60 alarm_of SIM-000000 2 fault raised
echo 0 >"$dbg/disconnect"
check "plugged in again, the fault is cleared (listed until acknowledged)" \
	wait_for 60 alarm_of SIM-000000 2 fault cleared
# A unit that stops sampling (its start fails on a firmware reload, as a
# hung unit's would) says nothing: only the time since its last sample does.
echo 1 >"$dbg/fail_start"
echo 1 >"$CLASS/$s0/firmware_reload"
check "a unit that stopped sampling: its firmware load failed" wait_for 60 \
	grep -qx failed "$CLASS/$s0/firmware_state"
check "a stopped unit raises silent, on both probes" wait_for 120 \
	bash -c "$(declare -f alarm_of); alarm_of SIM-000000 1 silent raised && alarm_of SIM-000000 2 silent raised"
echo 0 >"$dbg/fail_start"
echo 1 >"$CLASS/$s0/firmware_reload"
check "sampling again, silent is cleared (listed until acknowledged)" wait_for 60 \
	bash -c "$(declare -f alarm_of); alarm_of SIM-000000 1 silent cleared && alarm_of SIM-000000 2 silent cleared"
check "and the unit is ready" wait_for 60 grep -qx ready "$CLASS/$s0/firmware_state"
now=$(date +%s)
out=$(runuser -u plantadmin -- busctl --system call $BUS /org/coldroom/Sensors1/unit/$s0 \
	$UNIT_IFACE SetCalibration uttsii 1 $(((now - 335 * 86400) * 1000000)) \
	$(((now + 30 * 86400 - 3600) * 1000000)) CAL-2026-0042 0 0 2>&1); rc=$?
check "SetCalibration without a password: refused ($out)" \
	bash -c "[ $rc -ne 0 ] && [[ '$out' == *nteractive* || '$out' == *ccess* ]]"
check "plantadmin sets probe 1's calibration, due in 30 days, with the password" \
	as_person plantadmin "$admin_pw" coldroomctl calibrate SIM-000000 1 \
	--date @$((now - 335 * 86400)) --due @$((now + 30 * 86400 - 3600)) \
	--certificate CAL-2026-0042
reminders_raised() {
	alarm_of SIM-000000 1 calibration-90d raised && alarm_of SIM-000000 1 calibration-30d raised
}
check "its 90- and 30-day reminders are raised" wait_for 30 reminders_raised
check "the days until due are a property (29)" bash -c \
	"busctl --system get-property $BUS /org/coldroom/Sensors1/unit/$s0 $UNIT_IFACE Temp1Calibration | grep -q ' 29\$'"
coldroomctl alarms
audit_has_kind() {
	busctl --system call org.coldroom.Recorder1 /org/coldroom/Recorder1 org.coldroom.Recorder1 \
		GetEvents stt SIM-000000 $(((now - 3600) * 1000000)) $(((now + 3600) * 1000000)) |
		grep -q '(stuck), level'
}
check "the audit trail names the alarm's kind" wait_for 20 audit_has_kind
for p in 1 2; do
	as_person operator1 "$operator_pw" coldroomctl ack SIM-000000 $p \
		--comment "probe-health test over" ||
		fail "operator1 acknowledges SIM-000000 probe $p"
done
cp /tmp/coldroomd.conf.before-health /etc/coldroom/coldroomd.conf
systemctl reload coldroomd

echo "== notify.conf's secrets: readable by coldroom-notify only, never in the journal"
check "notify.conf is 0640 root:coldroom-notify" \
	test "$(stat -c '%a %U:%G' /etc/coldroom/notify.conf)" = "640 root:coldroom-notify"
check "a plain user cannot read it" bash -c "! runuser -u viewer -- cat /etc/coldroom/notify.conf 2>/dev/null"
# coldroom-alarm@ ran the real program in its sandbox (above). curl's exit
# status 7 (connection refused) says curl ran and reached the network;
# one the sandbox killed would say 159 (SIGSYS).
journalctl --sync 2>/dev/null || true
journalctl -b -u "$alarm_unit" --no-pager -o cat | grep coldroom-notify
check "coldroom-notify, in $alarm_unit's sandbox, read notify.conf and names the webhook's host" \
	bash -c "journalctl -b -u $alarm_unit --no-pager -o cat |
		grep -q 'webhook at 127.0.0.1:9 failed (curl exit 7)'"
check "the webhook's token is nowhere in the journal" bash -c \
	"! journalctl -b --no-pager -o cat | grep -q SECRET-TOKEN-4711"
mv /tmp/notify.conf.orig /etc/coldroom/notify.conf

echo "== restart loses no unit"
seq_before=$(cat "$CLASS/sensor0/sample_seq")
systemctl restart coldroomd || fail "systemctl restart coldroomd"
check "coldroomd is active again" wait_for 30 systemctl is-active --quiet coldroomd
check "busctl: still three unit objects" \
	wait_for 20 bash -c "[ \$(busctl --system --list tree $BUS | wc -l) -ge 3 ]"
check "busctl: three units after restart" test "$(unit_paths | grep -c .)" -eq 3
check "coldroomctl list: three units after restart" \
	bash -c "coldroomctl list | grep -c -E 'SIM-00000[012]|sensor[012]|Freezer-B' | grep -qx 3"
check "units still ready and sampling" \
	wait_for 20 bash -c "[ \$(cat $CLASS/sensor0/sample_seq) -gt $seq_before ]"
check "all units still ready" all_ready 3

echo "== apt purge removes everything"
# coldroomd keeps /dev/coldroom open, which holds the module: stop it first,
# as an administrator unloading the driver would.
systemctl stop coldroomd || fail "systemctl stop coldroomd"
modprobe -r coldroom_sim coldroom || fail "modprobe -r"
# The test's own files go first, so that whatever is left is the packages'.
rm -f /lib/firmware/coldroom/CRS-200-SIM-000002.fw
userdel viewer
userdel plantadmin
userdel operator1
DEBIAN_FRONTEND=noninteractive apt-get purge -y coldroom-sensor coldroom-sensor-dkms \
	>/tmp/apt-purge.log 2>&1 || { cat /tmp/apt-purge.log; fail "apt-get purge failed"; }
check "no package left" bash -c "! dpkg -l 'coldroom-sensor*' 2>/dev/null | grep -q '^[ri]'"
check "purge deleted the record, as coldroom-recorder(8) warns" test ! -e /var/lib/coldroom
check "and coldroomd's alarm state" test ! -e /var/lib/coldroomd
check_all_removed
# Debian removes no system group on purge: files may still carry its id.
getent group coldroom coldroom-admin | sed 's/^/kept (by policy): group /'
getent passwd coldroom-recorder | sed 's/^/kept (by policy): user /'

finish
