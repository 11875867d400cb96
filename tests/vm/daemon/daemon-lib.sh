# shellcheck shell=bash
# Guest-side helpers of the daemon's VM tests (sourced by each test), on top
# of the driver's: installing coldroomd by hand from the files the host
# runner copies in, and reading what it publishes.
. /usr/lib/vmtest/driver-lib.sh
FILES=/usr/lib/vmtest/daemon
BUS=org.coldroom.Sensors1
UNIT_IFACE=org.coldroom.Sensors1.Unit
MANAGER_IFACE=org.coldroom.Sensors1.Manager

prop() { # prop SENSOR PROPERTY: the value only, as busctl prints it
	busctl get-property "$BUS" "/org/coldroom/Sensors1/unit/$1" "$UNIT_IFACE" "$2" |
		cut -d' ' -f2- | tr -d '"'
}
manager_prop() { # manager_prop PROPERTY
	busctl get-property "$BUS" /org/coldroom/Sensors1 "$MANAGER_IFACE" "$1" |
		cut -d' ' -f2- | tr -d '"'
}
manager_prop_is() { [ "$(manager_prop "$1" 2>/dev/null)" = "$2" ]; }
all_ready() {
	local d
	for d in "$CLASS"/sensor*; do
		[ "$(cat "$d/firmware_state")" = ready ] || return 1
	done
}
status_is() { systemctl show -p StatusText --value coldroomd | grep -qF "$1"; }
# journal_has TEXT: coldroomd logged TEXT in this boot.
journal_has() { journalctl -b -u coldroomd --no-pager | grep -qF -- "$1"; }
journal_done() {
	journalctl -b --no-pager -u coldroomd -n 60
	dmesg | tail -n 30
}
need() { # need DESCRIPTION COMMAND...: a check the rest depends on
	local what=$1
	shift
	if "$@"; then pass "$what"; else
		fail "$what"; journal_done; echo "RESULT: stopped early"; exit 1; fi
}
daemon_finish() {
	[ "$failures" -eq 0 ] || journal_done
	finish
}

# install_daemon: coldroomd, coldroomctl, the unit, the D-Bus policy, the
# model blobs and a calibration, as the packages would (the packages have
# their own test). The tests kill the daemon on purpose: no restarts.
install_daemon() {
	echo "== install"
	install -m 0755 "$FILES/coldroomd" /usr/sbin/coldroomd
	install -m 0755 "$FILES/coldroomctl" /usr/bin/coldroomctl
	install -D -m 0644 "$FILES/org.coldroom.Sensors1.conf" /usr/share/dbus-1/system.d/org.coldroom.Sensors1.conf
	install -D -m 0644 "$FILES/coldroomd.service" /etc/systemd/system/coldroomd.service
	install -D -m 0644 "$FILES/coldroom.sysusers" /usr/lib/sysusers.d/coldroom.conf
	install -D -m 0644 "$FILES/coldroomd.conf" /etc/coldroom/coldroomd.conf
	install -D -m 0644 "$FILES/CRS-200.fw" /usr/lib/firmware/coldroom/CRS-200.fw
	install -D -m 0644 "$FILES/CRS-210T.fw" /usr/lib/firmware/coldroom/CRS-210T.fw
	install -D -m 0644 "$FILES/SIM-000002.override" /etc/coldroom/calibration/SIM-000002.conf
	systemd-sysusers
	mkdir -p /run/systemd/system/coldroomd.service.d
	printf '[Service]\nRestart=no\n' >/run/systemd/system/coldroomd.service.d/test.conf
	systemctl daemon-reload
	systemctl reload dbus
}
