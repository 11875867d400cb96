#!/bin/bash
# Guest: the product as a user meets it. Installs the packages with apt,
# lets DKMS build the module, creates simulated units, and shows them through
# every door: sysfs, sensors, systemd, D-Bus and coldroomctl, live.
set -uo pipefail

DEMO_SECONDS=${DEMO_SECONDS:-40}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Installing the packages (apt install ./coldroom-sensor*.deb)"
cd /usr/lib/vmtest/packages || exit 1
apt-get install -y -q --no-install-recommends ./*.deb 2>&1 |
	grep -E '^(Setting up|Building|Installing|Error|E:)|dkms' || true
run dkms status

step "Creating 4 simulated units; udev starts coldroomd"
run modprobe coldroom_sim units=4
for _ in $(seq 120); do
	# Ready, and each unit has taken its first sample.
	ready=$(grep -lx ready /sys/class/coldroom/sensor*/firmware_state 2>/dev/null | wc -l)
	sampled=$(grep -Lx 0 /sys/class/coldroom/sensor*/sample_seq 2>/dev/null | wc -l)
	[ "$ready" -eq 4 ] && [ "$sampled" -eq 4 ] && systemctl -q is-active coldroomd && break
	sleep 0.5
done
run systemctl status coldroomd --no-pager --full --lines=6

step "Readings in sysfs (millidegree Celsius)"
for unit in /sys/class/coldroom/sensor*; do
	printf '%s  %-8s %-10s temp1=%-7s temp2=%-7s firmware=%s %s\n' \
		"$(basename "$unit")" "$(cat "$unit/model")" "$(cat "$unit/serial")" \
		"$(cat "$unit/temp1" 2>/dev/null || echo -)" "$(cat "$unit/temp2" 2>/dev/null || echo -)" \
		"$(cat "$unit/firmware_state")" "$(cat "$unit/firmware_version")"
done

step "sensors"
run sensors

step "D-Bus"
run busctl tree org.coldroom.Sensors1

step "Live readings: coldroomctl list, every 2 s for ${DEMO_SECONDS} s"
end=$((SECONDS + DEMO_SECONDS))
while [ "$SECONDS" -lt "$end" ]; do
	printf '\n%s\n' "$(date +%T)"
	coldroomctl list || exit 1
	sleep 2
done
