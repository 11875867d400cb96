#!/bin/bash
# coldroomd under a flood, from a plain user on a bus with the stock
# policy, of every method open to everyone (GetManagedObjects, GetReadings,
# GetUnit, ListAlarms, Get, GetAll, GetFrame, Introspect, Ping): its
# watchdog is fed throughout (WATCHDOG_USEC and a NOTIFY_SOCKET of our own
# stand in for systemd), it keeps answering, and readings taken during the
# flood are served. Then the limits of the replies that carry every unit
# (one pending call of each a connection, four a user), met without a race
# (replies_limits.c). Environment (set by the Makefile): COLDROOMD,
# COLDROOMCTL, REPLIES_LIMITS.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroomd-flood

units=100
sys=$tmp/sys
mkdir -p "$sys/class/coldroom" "$tmp/model"
for i in $(seq 0 $((units - 1))); do fake_unit "$sys" "sensor$i" "$(printf 'SIM-%06d' "$i")"; done
cat >"$tmp/coldroom.conf" <<CONF
ModelFirmwareDir=$tmp/model
CONF
start_private_bus "$tmp" || { echo "test_flood: no dbus-daemon"; exit 1; }
mgr() { busctl --address="$addr" call org.coldroom.Sensors1 /org/coldroom/Sensors1 "$@"; }

# systemd's side of sd_notify: every datagram, with the time it came.
start_notify_listener "$tmp/notify" "$tmp/notify.log" ||
	{ fail "the notify listener did not start"; exit 1; }

# The watchdog as systemd would set it: WatchdogSec=10.
watchdog_us=10000000
NOTIFY_SOCKET=$tmp/notify WATCHDOG_USEC=$watchdog_us \
	"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" \
	2>>"$tmp/daemon.log" &
daemon_pid=$!
check "coldroomd says READY=1" wait_for 30 grep -q ' READY=1$' "$tmp/notify.log"

# Readings all along: a new sample of sensor0 every half second, read back
# by a reload (a fake tree's files wake no poll()).
(
	t=-18000
	while :; do
		t=$((t + 1))
		fake_sample "$sys" sensor0 "$t" 4000
		echo "$t" >"$tmp/last_temp"
		ctl reload >/dev/null 2>&1
		sleep 0.5
	done
) &
sampler=$!
extra_pids="$extra_pids $sampler"

# Eight connections at a time of a plain user, each every method in turn.
unit=/org/coldroom/Sensors1/unit/sensor1
flooder() {
	local end=$((SECONDS + 20)) b=(busctl --address="$addr")
	while [ "$SECONDS" -lt "$end" ]; do
		as_plain_user "${b[@]}" call org.coldroom.Sensors1 /org/coldroom/Sensors1 \
			org.freedesktop.DBus.ObjectManager GetManagedObjects >/dev/null 2>>"$tmp/flood.err.$1"
		as_plain_user "${b[@]}" call org.coldroom.Sensors1 /org/coldroom/Sensors1 \
			org.coldroom.Sensors1.Manager GetReadings >/dev/null 2>>"$tmp/flood.err.$1"
		as_plain_user "${b[@]}" call org.coldroom.Sensors1 /org/coldroom/Sensors1 \
			org.coldroom.Sensors1.Manager GetUnit s SIM-000042 >/dev/null 2>>"$tmp/flood.err.$1"
		as_plain_user "${b[@]}" call org.coldroom.Sensors1 /org/coldroom/Sensors1 \
			org.coldroom.Sensors1.Manager ListAlarms >/dev/null 2>>"$tmp/flood.err.$1"
		as_plain_user "${b[@]}" get-property org.coldroom.Sensors1 "$unit" \
			org.coldroom.Sensors1.Unit Temp1 >/dev/null 2>>"$tmp/flood.err.$1"
		as_plain_user "${b[@]}" call org.coldroom.Sensors1 "$unit" \
			org.freedesktop.DBus.Properties GetAll s org.coldroom.Sensors1.Unit \
			>/dev/null 2>>"$tmp/flood.err.$1"
		# No thermal frame on a fake tree: NoFrame is its answer.
		as_plain_user "${b[@]}" call org.coldroom.Sensors1 "$unit" \
			org.coldroom.Sensors1.Unit GetFrame >/dev/null 2>>"$tmp/frame.err.$1"
		as_plain_user "${b[@]}" introspect org.coldroom.Sensors1 /org/coldroom/Sensors1 \
			>/dev/null 2>>"$tmp/flood.err.$1"
		as_plain_user "${b[@]}" call org.coldroom.Sensors1 /org/coldroom/Sensors1 \
			org.freedesktop.DBus.Peer Ping >/dev/null 2>>"$tmp/flood.err.$1"
		echo x >>"$tmp/rounds.$1"
	done
}
flood_pids=
for i in 1 2 3 4 5 6 7 8; do flooder "$i" & flood_pids="$flood_pids $!"; done
extra_pids="$extra_pids $flood_pids"
# shellcheck disable=SC2086
wait $flood_pids

check "coldroomd is still running" kill -0 "$daemon_pid"
rounds=$(cat "$tmp"/rounds.* 2>/dev/null | wc -l)
check "the flood went round every method ($rounds rounds)" test "$rounds" -ge 8
# The longest time between two WATCHDOG=1 from READY=1 on: under WATCHDOG_USEC.
gap=$(watchdog_gap "$tmp/notify.log")
check "WATCHDOG=1 kept coming (${gap% *} us at most between two, ${gap#* } in all)" \
	test "${gap#* }" -ge 2 -a "${gap% *}" -lt "$watchdog_us"
errors=$(cat "$tmp"/flood.err.* | sort | uniq -c)
check "every call answered, or refused by a limit ($errors)" bash -c \
	"! grep -hv -e 'calls\\? .*pending' $tmp/flood.err.*"
check "GetFrame: NoFrame, nothing else" bash -c \
	"! grep -hv -e 'no thermal frame' -e 'calls\\? .*pending' $tmp/frame.err.*"
kill "$sampler"; wait "$sampler" 2>/dev/null
last=$(cat "$tmp/last_temp")
ctl reload >/dev/null 2>&1
out=$(mgr org.coldroom.Sensors1.Manager GetReadings)
n=$(awk '{ print $2 }' <<<"$out")
check "GetReadings afterwards: every unit ($n)" test "$n" -eq "$units"
got=$(busctl --address="$addr" get-property org.coldroom.Sensors1 /org/coldroom/Sensors1/unit/sensor0 \
	org.coldroom.Sensors1.Unit Temp1)
check "the last reading of the flood is served (Temp1 $got, fed $last)" test "$got" = "i $last"
out=$(mgr org.freedesktop.DBus.ObjectManager GetManagedObjects | awk '{ print $2 }')
check "GetManagedObjects afterwards: every unit ($out)" test "$out" -eq "$units"

# The limits, with no race: a window of 10 s under way, which the replies
# wait for, and coldroomd stopped while the calls queue up.
echo ReadingsBatchMs=10000 >>"$tmp/coldroom.conf"
fake_sample "$sys" sensor0 -17000 4000
ctl reload >/dev/null 2>&1
kill -STOP "$daemon_pid"
wait_for 10 bash -c "[ \"\$(awk '{ print \$3 }' /proc/$daemon_pid/stat)\" = T ]" ||
	fail "coldroomd did not stop"
"$REPLIES_LIMITS" "$addr" "$daemon_pid" >"$tmp/limits.out" 2>&1
rc=$?
kill -CONT "$daemon_pid"
limits=$(sort "$tmp/limits.out" | uniq -c)
check "replies_limits ran (rc $rc): $limits" test "$rc" -eq 0
check "a connection's first GetManagedObjects: every unit" \
	grep -qx "a GetManagedObjects ok $units" "$tmp/limits.out"
check "its second, while the first is pending: LimitsExceeded" grep -qx \
	'a GetManagedObjects error org.freedesktop.DBus.Error.LimitsExceeded: a GetManagedObjects call of .* is still pending' \
	"$tmp/limits.out"
check "the same for GetReadings: one answered with every unit" \
	grep -qx "a GetReadings ok $units" "$tmp/limits.out"
check "the other refused" grep -qx \
	'a GetReadings error org.freedesktop.DBus.Error.LimitsExceeded: a GetReadings call of .* is still pending' \
	"$tmp/limits.out"
# Four of root's connections are served; the fifth is refused, where the
# bus can say who called (a bus without credentials serves each on its own).
if busctl --address="$addr" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
	GetConnectionUnixUser s org.freedesktop.DBus >/dev/null 2>&1 ||
	grep -q 'calls of uid' "$tmp/limits.out"; then
	check "root's four connections answered" \
		test "$(grep -Ec '^[a-d] GetManagedObjects ok ' "$tmp/limits.out")" -eq 4
	check "its fifth: LimitsExceeded" grep -qx \
		'e GetManagedObjects error org.freedesktop.DBus.Error.LimitsExceeded: 4 GetManagedObjects calls of uid 0 are pending: try again later' \
		"$tmp/limits.out"
fi
check "and nothing else" test "$(wc -l <"$tmp/limits.out")" -eq 8
check "coldroomd answers afterwards" mgr org.freedesktop.DBus.Peer Ping

# A client that calls again as soon as it is refused, while a window of
# 10 s is under way: the refusal comes at the window's end, so in 3 s it
# is refused at most once a window, not in a loop of thousands. Then it
# waits for its two calls: both are told at the window's end, one
# answered (the window held it, so the refusal came while one was under
# way) and the other refused.
fake_sample "$sys" sensor0 -16000 4000
ctl reload >/dev/null 2>&1
again=$(as_plain_user "$REPLIES_LIMITS" "$addr" --again 3 2>&1)
read -r _ answered _ refused <<<"$again"
check "a client calling again at once: refused once a window, answered at its end ($again)" \
	test "${answered:-x}" -eq 1 -a "${refused:-x}" -ge 1 -a "${refused:-x}" -le 2 2>/dev/null

kill "$daemon_pid"; wait "$daemon_pid"; rc=$?
daemon_pid=
check "coldroomd stops cleanly (rc $rc)" test "$rc" -eq 0

echo "test_flood: $failures failure(s)"
[ "$failures" -eq 0 ]
