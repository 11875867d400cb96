#!/bin/bash
# Checks of coldroom-uplink.service that need no running system: the
# sandbox exposure systemd-analyze reports is within its budget, it runs
# as its own user with no capability and nothing but IP and the bus, and
# its D-Bus policy is well-formed and lets only that user own the name.
#
#   check-uplink.sh [MAX_EXPOSURE]
set -euo pipefail
cd "$(dirname "$0")"
max=${1:-2.0}
unit=coldroom-uplink.service
failures=0

fail() { echo "systemd: FAIL: $*" >&2; failures=$((failures + 1)); }
setting() { sed -n '/^\[Service\]/,/^\[/{s/^'"$1"'=//p}' "$unit" | tail -n 1; }

report=$(systemd-analyze security --offline=yes --no-pager "$PWD/$unit" 2>&1) ||
	{ echo "$report" >&2; fail "systemd-analyze security $unit failed"; }
exposure=$(sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\).*$/\1/p' <<<"$report")
if [ -z "$exposure" ]; then
	fail "$unit: no exposure level in the report"
elif awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e <= m) }'; then
	echo "systemd: $unit exposure $exposure (budget $max)"
else
	grep '✗' <<<"$report" >&2 || true
	fail "$unit: exposure $exposure is above the budget $max"
fi

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

[ "$failures" -eq 0 ] || exit 1
echo "systemd: coldroom-uplink.service and its D-Bus policy pass"
