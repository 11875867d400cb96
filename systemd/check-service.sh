#!/bin/bash
# Checks of the product's services that need no running system:
#  - the sandbox exposure systemd-analyze reports for each is within its
#    budget (MAX_EXPOSURE for the daemons that serve others, 1.0 for the
#    recorder);
#  - coldroomd keeps the settings the firmware fallback depends on
#    (DESIGN.md, "Facts for the user-space side"): CAP_SYS_RAWIO kept, no
#    PrivateDevices= or PrivateNetwork=, AF_NETLINK allowed, /sys/devices
#    writable;
#  - the recorder and the uplink run as their own users with no capability;
#  - the alarm notification units, which have no unit file, keep their
#    settings: the table in daemon/coldroomd/alarm_notify.c, written out as
#    a unit file, runs as coldroom-notify in a sandbox within the daemons'
#    budget;
#  - every service shipped, and the notification units, has MemoryMax= and
#    TasksMax=;
#  - the D-Bus policies are well-formed XML and let only the right user own
#    each name;
#  - the polkit actions follow polkit's DTD and the shipped rules give each
#    role (group) what SECURITY.md says (check-polkit-rules.js, under node).
#
#   check-service.sh [MAX_EXPOSURE]
set -euo pipefail
cd "$(dirname "$0")"
max=${1:-2.0}
unit=coldroomd.service
failures=0

fail() { echo "systemd: FAIL: $*" >&2; failures=$((failures + 1)); }

# The last value of KEY= in the [Service] section.
setting() {
	sed -n '/^\[Service\]/,/^\[/{s/^'"$1"'=//p}' "$unit" | tail -n 1
}

# check_exposure MAX: $unit's exposure as systemd-analyze reports it is within MAX.
check_exposure() {
	local report exposure path=$unit
	[[ $unit == /* ]] || path=$PWD/$unit
	report=$(systemd-analyze security --offline=yes --no-pager "$path" 2>&1) ||
		{ echo "$report" >&2; fail "systemd-analyze security $unit failed"; }
	exposure=$(sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\).*$/\1/p' <<<"$report")
	if [ -z "$exposure" ]; then
		fail "$unit: no exposure level in the report"
	elif awk -v e="$exposure" -v m="$1" 'BEGIN { exit !(e <= m) }'; then
		echo "systemd: $unit exposure $exposure (budget $1)"
	else
		grep '✗' <<<"$report" >&2 || true
		fail "$unit: exposure $exposure is above the budget $1"
	fi
}

check_exposure "$max"

[ "$(setting Type)" = notify ] || fail "Type= must be notify"
[ -n "$(setting WatchdogSec)" ] || fail "WatchdogSec= is missing"
[ "$(setting Restart)" = on-failure ] || fail "Restart= must be on-failure"
[ "$(setting CapabilityBoundingSet)" = CAP_SYS_RAWIO ] ||
	fail "CapabilityBoundingSet= must be exactly CAP_SYS_RAWIO (firmware fallback 'data')"
case " $(setting RestrictAddressFamilies) " in
*" AF_NETLINK "*) ;;
*) fail "RestrictAddressFamilies= must allow AF_NETLINK (udev events)" ;;
esac
for key in PrivateDevices PrivateNetwork PrivateUsers DynamicUser User; do
	value=$(setting "$key")
	case "$value" in
	''|no|false|0|root) ;;
	*) fail "$key=$value breaks the firmware fallback or the D-Bus policy" ;;
	esac
done
if [ "$(setting ProtectKernelTunables)" = yes ]; then
	grep -qx 'ReadWritePaths=/sys/devices' "$unit" ||
		fail "ProtectKernelTunables=yes needs ReadWritePaths=/sys/devices"
fi

for policy in org.coldroom.Sensors1.conf org.coldroom.Recorder1.conf; do
	xmllint --noout --nonet "$policy" 2>/dev/null || fail "$policy is not well-formed XML"
done
grep -q '<policy user="coldroom-recorder">' org.coldroom.Recorder1.conf ||
	fail "only coldroom-recorder may own org.coldroom.Recorder1"
grep -q '<policy user="root">' org.coldroom.Sensors1.conf &&
	! grep -q '<allow own=' <(sed '/<policy user="root">/,/<\/policy>/d' org.coldroom.Sensors1.conf) ||
	fail "only root may own org.coldroom.Sensors1"

# polkit: the actions are valid, the rules give each role what SECURITY.md
# says, and every group the rules name is created.
dtd=/usr/share/polkit-1/policyconfig-1.dtd
if [ -r "$dtd" ]; then
	xmllint --noout --nonet --dtdvalid "$dtd" org.coldroom.sensors.policy 2>/dev/null ||
		fail "org.coldroom.sensors.policy does not follow polkit's DTD"
else
	xmllint --noout --nonet org.coldroom.sensors.policy 2>/dev/null ||
		fail "org.coldroom.sensors.policy is not well-formed XML"
fi
for action in acknowledge configure sign-report; do
	grep -q "<action id=\"org.coldroom.sensors.$action\">" org.coldroom.sensors.policy ||
		fail "org.coldroom.sensors.policy lacks org.coldroom.sensors.$action"
done
if command -v node >/dev/null; then
	node check-polkit-rules.js 49-coldroom-sensor.rules || fail "the polkit rules' roles are wrong"
else
	echo "systemd: node is missing: the polkit rules' roles are not checked" >&2
fi
for group in $(grep -o '"coldroom-[a-z]*"' 49-coldroom-sensor.rules | tr -d '"' | sort -u) \
	     coldroom-viewer coldroom-auditor; do
	grep -q "^g $group " coldroom.sysusers || fail "sysusers does not create $group"
done

# The recorder: a plain bus client, as unprivileged as a service gets.
unit=coldroom-recorder.service
check_exposure 1.0
[ "$(setting Type)" = notify ] || fail "$unit: Type= must be notify"
[ -n "$(setting WatchdogSec)" ] || fail "$unit: WatchdogSec= is missing"
[ "$(setting User)" = coldroom-recorder ] || fail "$unit: must run as coldroom-recorder"
[ -z "$(setting CapabilityBoundingSet)" ] || fail "$unit: needs no capability"
[ "$(setting StateDirectoryMode)" = 0700 ] || fail "$unit: the record's directory must be 0700"
grep -q '^u coldroom-recorder ' coldroom.sysusers ||
	fail "sysusers does not create the user coldroom-recorder"
grep -qx 'Wants=coldroom-recorder.service' coldroomd.service ||
	fail "coldroomd.service does not start the recorder"

# The metrics exporter: socket-activated, within the daemons' budget.
unit=coldroom-metrics.service
check_exposure "$max"

# The uplink: as its own user, nothing but IP and the bus.
unit=coldroom-uplink.service
check_exposure "$max"
[ "$(setting Type)" = notify ] || fail "$unit: Type= must be notify"
[ -n "$(setting WatchdogSec)" ] || fail "$unit: WatchdogSec= is missing"
[ "$(setting User)" = coldroom-uplink ] || fail "$unit: must run as coldroom-uplink"
[ -z "$(setting CapabilityBoundingSet)" ] || fail "$unit: needs no capability"
[ "$(setting StateDirectory)" = coldroom-uplink ] || fail "$unit: StateDirectory= must be coldroom-uplink"
[ "$(setting RestrictAddressFamilies)" = "AF_UNIX AF_INET AF_INET6" ] ||
	fail "$unit: only the bus and IP"
grep -q '^ExecStart=[^ ]*coldroom-uplink$' "$unit" || fail "$unit: no options (and never a secret) on its command line"
grep -q '^u coldroom-uplink ' coldroom.sysusers || fail "sysusers does not create the user coldroom-uplink"
xmllint --noout --nonet org.coldroom.Uplink1.conf 2>/dev/null ||
	fail "org.coldroom.Uplink1.conf is not well-formed XML"
grep -q '<policy user="coldroom-uplink">' org.coldroom.Uplink1.conf ||
	fail "only coldroom-uplink may own org.coldroom.Uplink1"

# The alarm notification units: their one table of settings (one entry a
# line: { "Section", "Key", 'type', "value" }), as a unit file.
table=../daemon/coldroomd/alarm_notify.c
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unit=$tmp/coldroom-alarm-check.service
entries=$(sed -n 's/^\t{ "\(Unit\|Service\)", "\([A-Za-z]*\)", '"'"'.'"'"', "\([^"]*\)" },$/\1 \2=\3/p' "$table")
{
	echo "[Unit]"
	echo "Description=the settings of coldroom-alarm@.service"
	sed -n 's/^Unit //p' <<<"$entries"
	echo "[Service]"
	echo "ExecStart=/usr/libexec/coldroom/coldroom-notify alarm"
	sed -n 's/^Service //p' <<<"$entries" | sed 's/^TimeoutStartSec=\([0-9]*\)$/TimeoutStartSec=\1s/'
} >"$unit"
check_exposure "$max"
[ "$(setting Type)" = oneshot ] || fail "alarm units: Type= must be oneshot"
for key in ProtectHome PrivateTmp PrivateDevices NoNewPrivileges RestrictSUIDSGID; do
	[ "$(setting "$key")" = yes ] || fail "alarm units: $key=yes is missing from $table"
done
[ "$(setting User)" = coldroom-notify ] || fail "alarm units: must run as coldroom-notify"
grep -q '^u coldroom-notify ' coldroom.sysusers || fail "sysusers does not create the user coldroom-notify"
[ "$(setting ProtectSystem)" = strict ] || fail "alarm units: ProtectSystem= must be strict"
[ -z "$(setting CapabilityBoundingSet)" ] && grep -qx 'CapabilityBoundingSet=' "$unit" ||
	fail "alarm units: need no capability"
[ "$(setting RestrictAddressFamilies)" = "AF_INET AF_INET6 AF_UNIX" ] ||
	fail "alarm units: only IP (webhooks, SMTP) and AF_UNIX"
grep -qx 'SystemCallFilter=@system-service' "$unit" ||
	fail "alarm units: SystemCallFilter=@system-service is missing"
grep -qE '(^|[|;] *)sendmail ' coldroom-notify && fail "coldroom-notify: sendmail's setgid helpers do not run under NoNewPrivileges="
grep -q 'notify.conf' Makefile && grep -q 'install -D -m 0640 notify.conf' Makefile ||
	fail "notify.conf (webhook tokens) must be installed 0640"
[ "$(setting RemainAfterExit)" = no ] && grep -qx 'CollectMode=inactive-or-failed' "$unit" ||
	fail "alarm units: an instance must be unloaded once it ran, so the next alarm can start it"
[ -n "$(setting TimeoutStartSec)" ] || fail "alarm units: TimeoutStartSec= is missing"

# Bounded: every service shipped, and the notification units' table.
for unit in *.service "$tmp/coldroom-alarm-check.service"; do
	for key in MemoryMax TasksMax; do
		[ -n "$(setting "$key")" ] || fail "$unit: $key= is missing"
	done
done

[ "$failures" -eq 0 ] || exit 1
echo "systemd: coldroomd, coldroom-recorder, coldroom-metrics and coldroom-uplink services, the alarm notification units' settings, their limits and the D-Bus policies pass"
