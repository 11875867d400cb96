#!/bin/bash
# Guest: the Cockpit page with the installed packages, driven by a real
# browser on the host (tests/cockpit/browser.py through vm-run --forward).
# The daemon's and the page's .debs are installed with apt beside the
# modules built for the guest's kernel; Cockpit (cockpit-ws, -bridge,
# -system) is in the guest image. This side sets the scene (units, people,
# an alarm raised by moving a unit's band), prints what the browser must
# find (coldroomctl's view, then COCKPIT-READY), and waits, bounded, for
# what the people do in the browser to reach the audit trail: the viewer's
# refused attempt, operator1's wrong password refused, then operator1's
# acknowledgement with the comment and the password typed on the page;
# then for operator1 to log out, the browser's last act.
#
# Files from the host (run.sh): /usr/lib/vmtest/packages/*.deb,
# /usr/lib/vmtest/modules/*.ko, /usr/lib/vmtest/product-lib.sh,
# /usr/lib/vmtest/wait-scale (the host's WAIT_SCALE).
set -uo pipefail

. /usr/lib/vmtest/product-lib.sh

scale=$(cat /usr/lib/vmtest/wait-scale 2>/dev/null || echo 1)
scaled() { awk -v s="$scale" -v t="$1" 'BEGIN { printf "%d", t * (s < 1 ? 1 : s) }'; }
# What the page must show for the label: text, never markup.
awkward_label='<b>Freezer</b> & "B"'
comment='door closed, stock checked (Cockpit)'

begin

echo "== install with apt"
install_deb_with_modules "$PKGS"/coldroom-sensor-cockpit_*.deb
check "the page is installed where Cockpit looks" test -f /usr/share/cockpit/coldroom/manifest.json

echo "== the browser's path: the network card, Cockpit over plain HTTP"
nic=$(ls /sys/class/net | grep -vx lo | head -n 1)
check "a network card (${nic:-none})" test -n "$nic"
ip link set "$nic" up && ip addr add 10.0.2.15/24 dev "$nic" || fail "cannot set up $nic"
# The browser comes through QEMU's port forward, from 10.0.2.2, not from
# localhost: Cockpit would send it to HTTPS with a self-signed certificate.
mkdir -p /etc/cockpit
printf '[WebService]\nAllowUnencrypted = true\n' >/etc/cockpit/cockpit.conf
check "cockpit.socket listens on 9090" systemctl start cockpit.socket
check "Cockpit lists the page (cockpit-bridge --packages)" bash -c \
	"cockpit-bridge --packages | grep -q '^coldroom '"

echo "== units, people, an alarm"
echo RecordIntervalSec=10 >>/etc/coldroom/coldroomd.conf
modprobe coldroom_sim units=4 door_interval_s=0 || die "modprobe coldroom_sim failed"
check "udev started coldroomd" wait_for 60 systemctl is-active --quiet coldroomd
check "all four units have firmware" wait_for 90 all_ready 4
check "the recorder runs" wait_for 30 systemctl is-active --quiet coldroom-recorder
useradd -m -s /bin/bash -c "Olga Operator" -G coldroom-operator operator1 || fail "useradd operator1"
echo 'operator1:Op-one-0815' | chpasswd || fail "chpasswd operator1"
useradd -m -s /bin/bash -c "Victor Viewer" -G coldroom-viewer viewer || fail "useradd viewer"
echo 'viewer:View-only-4711' | chpasswd || fail "chpasswd viewer"
useradd -m -s /bin/bash -c "Paula Admin" -G coldroom-admin plantadmin || fail "useradd plantadmin"
echo 'plantadmin:Plant-admin-4711' | chpasswd || fail "chpasswd plantadmin"
s1=$(sensor_of SIM-000001)
check "a label with markup in it is set on SIM-000000" coldroomctl set SIM-000000 "label=$awkward_label"
check "SIM-000001 is labelled" coldroomctl set SIM-000001 "label=Cold room 2"
# The simulated room is near -18 C: a band of -10 C .. 0 C puts probe 1 out.
check "root moves SIM-000001's band away from its room" \
	coldroomctl set SIM-000001 temp1.min=-10C temp1.max=0C temp1.hyst=0.5C
check "the kernel sees the probe out of band" wait_for 20 grep -qx 1 "$CLASS/$s1/temp1_alarm"
check "coldroomd lists the alarm, raised" wait_for 20 bash -c \
	"coldroomctl alarms | grep SIM-000001 | grep -q raised"
# Two record intervals: the history chart has rows to draw.
has_rows() {
	[ "$(sqlite3 -readonly /var/lib/coldroom/record.db \
		"SELECT count(*) FROM record WHERE n > 0 AND serial = 'SIM-000001'")" -ge 4 ] 2>/dev/null
}
check "the record has SIM-000001's rows" wait_for 60 has_rows

echo "== the browser's turn"
# The readings held still (an hour between samples), so that the page and
# coldroomctl must agree to the digit: the last sample stays the latest.
for serial in SIM-000000 SIM-000001 SIM-000002 SIM-000003; do
	coldroomctl set "$serial" interval=3600000 || fail "coldroomctl set $serial interval"
done
coldroomctl --json list >/tmp/list.json
unchanged() {
	coldroomctl --json list >/tmp/list.new && cmp -s /tmp/list.json /tmp/list.new && return 0
	mv /tmp/list.new /tmp/list.json
	return 1
}
# A sample taken while the intervals changed shows in the next list.
check "the readings hold still" wait_for 20 unchanged
coldroomctl list
# What the browser compares the rooms list with, one line.
echo "COLDROOMCTL-LIST $(python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' </tmp/list.json)"
echo "COCKPIT-READY"

events() {
	busctl --system --json=short call org.coldroom.Recorder1 /org/coldroom/Recorder1 \
		org.coldroom.Recorder1 GetEventsPage stttt SIM-000001 0 "$(($(date +%s) + 3600))000000" 0 0 2>/dev/null
}
refused() { events | grep -q '"refused",1,false,0,"'"$1"'","org.coldroom.sensors.acknowledge"'; }
acked_operator() { events | grep -q "\"alarm-acknowledged\",1,true,-\?[0-9]*,\"operator1\",[^]]*$comment"; }
operator_gone() { ! loginctl list-users --no-legend | grep -qw operator1; }
check "the viewer's attempt from the page is in the audit trail, refused" \
	wait_for "$(scaled 600)" refused viewer
check "operator1's wrong password on the page is in the audit trail, refused" \
	wait_for "$(scaled 300)" refused operator1
check "operator1's acknowledgement from the page is in the audit trail, with the comment" \
	wait_for "$(scaled 600)" acked_operator
check "coldroomd lists the alarm as acknowledged by operator1" bash -c \
	"coldroomctl alarms | grep SIM-000001 | grep acknowledged | grep -q 'operator1: $comment'"
check "operator1 logged out of Cockpit" wait_for "$(scaled 300)" operator_gone
# The administrator changes SIM-000002's label and its probe 2 band on the page.
changed_by_admin() {
	busctl --system --json=short call org.coldroom.Recorder1 /org/coldroom/Recorder1 \
		org.coldroom.Recorder1 GetEventsPage stttt SIM-000002 0 "$(($(date +%s) + 3600))000000" 0 0 \
		2>/dev/null | grep -q '"setting-changed",0,false,0,"plantadmin","label","[^"]*","Freezer C"'
}
admin_gone() { ! loginctl list-users --no-legend | grep -qw plantadmin; }
check "plantadmin's label change from the page is in the audit trail" \
	wait_for "$(scaled 600)" changed_by_admin
check "coldroomd has SIM-000002's new label and probe 2 band" bash -c \
	"[ \"\$(cat $CLASS/$(sensor_of SIM-000002)/label)\" = 'Freezer C' ] &&
	 [ \"\$(cat $CLASS/$(sensor_of SIM-000002)/temp2_max)\" = -12000 ]"
check "plantadmin logged out of Cockpit: the browser is done" wait_for "$(scaled 300)" admin_gone
events | python3 -c 'import json, sys
for e in json.load(sys.stdin)["data"][0]:
    print("audit:", *e)' | tail -n 8
finish
