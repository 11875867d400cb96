#!/bin/bash
# Host: what coldroom-uplink costs natively forwarding the record of
# 10,000 units at 1 Hz to a real local mosquitto broker (plain TCP on
# 127.0.0.1, anonymous) with one QoS 1 subscriber. The real coldroomd is
# fed as in run.sh and coldroom-recorder writes the record as in
# recorder.sh, but with short intervals (RecordIntervalSec=10 by default,
# so that a run takes minutes, not hours): the uplink's work per interval
# is the same burst of 2 rows a unit, only more often. Over a window of
# whole intervals after the first one reached the subscriber:
#   - the uplink's CPU (ns on CPU from /proc/PID/schedstat) per message
#     published and per interval, and the broker's per message;
#   - the messages per interval at the subscriber, by topic;
#   - the uplink's peak RSS;
#   - from an interval's end to its first and last row arriving at the
#     subscriber (its receive time against the payload's end_us);
# then a backlog drain: the broker stopped for 2 intervals, started again,
# and the time and CPU until the uplink's Backlog (org.coldroom.Uplink1)
# is 0 again.
# Writes its section of BENCHMARKS.md (between the bench-uplink markers).
#
#   uplink.sh [--units N] [--intervals K] [--interval-sec S] [--output FILE]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
out=$O/bench-uplink
units=10000
intervals=6
interval=10
output=$top/BENCHMARKS.md
cmdline="tests/bench/native/uplink.sh${*:+ $*} (part of make bench-native)"
while [ $# -gt 0 ]; do
	case "$1" in
	--units) units=${2:?}; shift 2 ;;
	--intervals) intervals=${2:?}; shift 2 ;;
	--interval-sec) interval=${2:?}; shift 2 ;;
	--output) output=${2:?}; shift 2 ;;
	*) echo "usage: uplink.sh [--units N] [--intervals K] [--interval-sec S] [--output FILE]" >&2; exit 2 ;;
	esac
done
# The outage of the drain, and how long a drain may take before we give up.
outage=$((2 * interval)) drain_limit=$((30 * interval + 120))

die() { echo "bench-uplink: $*" >&2; exit 1; }
. "$here/lib.sh"
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQUITTO" ] || die "mosquitto is missing (make deps)"
for tool in mosquitto_sub busctl python3; do
	command -v "$tool" >/dev/null || die "$tool is missing (make deps)"
done
rm -rf "$out"
mkdir -p "$out"
make -s -C "$top/daemon" O="$O" >/dev/null || die "building the daemons failed"
build_feeder "$out"

make_scratch bench-uplink

# The recorder and the uplink own their names on the private bus as the
# user running this (the shipped policies give them to their own users).
# shellcheck disable=SC2034 # read by bus_config (lib.sh)
bus_policy_extra="  <policy user=\"$(id -un)\">
    <allow own=\"org.coldroom.Recorder1\"/>
    <allow own=\"org.coldroom.Uplink1\"/>
  </policy>
  <include>$top/systemd/org.coldroom.Recorder1.conf</include>
  <include>$top/systemd/org.coldroom.Uplink1.conf</include>"
start_fed_coldroomd "$out" "$scratch/sys" "$units" $((interval * (intervals + 8) + outage + drain_limit + 600))

db=$scratch/record.db
{ cat "$out/coldroom.conf"; echo "RecordIntervalSec=$interval"; } >"$out/recorder.conf"
start_recorder "$out/recorder.conf" "$db"
for _ in $(seq 100); do
	name_owned "$addr" org.coldroom.Recorder1 && break
	sleep 0.2
done
name_owned "$addr" org.coldroom.Recorder1 ||
	die "the recorder did not take its name ($out/recorder.log)"

# The broker: every message queued for the subscriber however many (the
# defaults drop beyond 1,000 queued, a burst here is 30,000).
port=$(free_port)
cat >"$out/mosquitto.conf" <<CONF
user $(id -un)
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 0
log_dest file $out/broker.log
listener $port 127.0.0.1
CONF
broker_pid='' sub_pid=''
start_broker() {
	"$MOSQUITTO" -c "$out/mosquitto.conf" >>"$out/broker.stderr" 2>&1 &
	broker_pid=$!
	pids+=("$broker_pid")
	for _ in $(seq 100); do
		mosquitto_sub -h 127.0.0.1 -p "$port" -t probe/none -W 1 -E >/dev/null 2>&1 && break
		sleep 0.1
	done
	mosquitto_sub -h 127.0.0.1 -p "$port" -t probe/none -W 1 -E >/dev/null 2>&1 ||
		die "the broker did not start ($out/broker.log)"
	# The subscriber: receive time (s.ns), topic, payload, a line a message.
	mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -t 'coldroom/v1/#' -F '%U %t %p' \
		>>"$scratch/sub.log" 2>>"$out/sub.stderr" &
	sub_pid=$!
	pids+=("$sub_pid")
}
stop_broker() {
	kill "$sub_pid" "$broker_pid"
	wait "$sub_pid" "$broker_pid" 2>/dev/null
}
start_broker

cat >"$out/uplink.conf" <<CONF
Broker=127.0.0.1:$port
Site=bench
Host=host1
CONF
mkdir -p "$scratch/state"
"$O/daemon/coldroom-uplink" --bus "$addr" --config "$out/uplink.conf" --state-dir "$scratch/state" \
	2>"$out/uplink.log" &
up_pid=$!
pids+=("$up_pid")
up_prop() {
	busctl --address="$addr" get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 \
		org.coldroom.Uplink1 "$1" 2>/dev/null | awk '{ print $2 }'
}

# Warm-up: the first interval row at the subscriber (the recorder writes
# an interval 5 s after its end; its first is a partial one).
first_row() { grep -m 1 -q '/interval {' "$scratch/sub.log"; }
for _ in $(seq $((interval * 4 * 5 + 100))); do
	first_row && break
	kill -0 "$up_pid" 2>/dev/null || die "the uplink stopped ($out/uplink.log)"
	sleep 0.2
done
first_row || die "no interval reached the subscriber ($out/uplink.log, $out/recorder.log)"

# The window: whole intervals from a boundary (midway between two writes).
t_first=$(( ($(date +%s) / interval + 1) * interval ))
echo "bench-uplink: $units units, the window starts at $(date -d "@$t_first" +%T)" >&2
while [ "$(date +%s)" -lt "$t_first" ]; do sleep 0.1; done
lines0=$(wc -l <"$scratch/sub.log") u0=$(cpu_ns "$up_pid") b0=$(cpu_ns "$broker_pid") t0=$(date +%s%N)
sleep $((interval * intervals))
lines1=$(wc -l <"$scratch/sub.log") u1=$(cpu_ns "$up_pid") b1=$(cpu_ns "$broker_pid") t1=$(date +%s%N)
rss=$(peak_rss_kb "$up_pid")
backlog_end=$(up_prop Backlog)
sed -n "$((lines0 + 1)),${lines1}p" "$scratch/sub.log" >"$scratch/window.log"
msgs=$((lines1 - lines0))
[ "$msgs" -gt 0 ] || die "nothing reached the subscriber in the window"
# Messages by topic: interval, state, anything else.
read -r n_interval n_state n_other < <(awk '
	$2 ~ /\/interval$/ { i++; next } $2 ~ /\/state$/ { s++; next } { o++ }
	END { print i + 0, s + 0, o + 0 }' "$scratch/window.log")
# Per interval of the window (by end_us): its end to its first and last row
# at the subscriber, in ms; "median max" of each over the intervals.
read -r first_med first_max last_med last_max n_ends < <(awk -v from="$t_first" -v k="$intervals" -v len="$interval" '
	$2 ~ /\/interval$/ && match($0, /"end_us":[0-9]+/) {
		e = substr($0, RSTART + 9, RLENGTH - 9); d = $1 * 1000 - e / 1000
		if (e / 1e6 < from || e / 1e6 >= from + k * len) next
		if (!(e in lo) || d < lo[e]) lo[e] = d
		if (!(e in hi) || d > hi[e]) hi[e] = d
	}
	function medmax(a,   n, i, j, t, v) {
		n = 0; for (i in a) v[++n] = a[i]
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return sprintf("%.0f %.0f", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, v[n])
	}
	END { n = 0; for (e in lo) n++; if (!n) { print "- - - - 0"; exit } print medmax(lo), medmax(hi), n }' "$scratch/window.log")
echo "RESULT units=$units msgs=$msgs interval_msgs=$n_interval state=$n_state other=$n_other" \
	"uplink_ns=$((u1 - u0)) broker_ns=$((b1 - b0)) wall_ns=$((t1 - t0)) rss_kb=$rss backlog=$backlog_end" \
	"first=$first_med/$first_max last=$last_med/$last_max ends=$n_ends" >&2

# The drain: the broker away for 2 intervals, then the backlog forwarded.
stop_broker
sleep "$outage"
backlog0=$(up_prop Backlog)
lines0=$(wc -l <"$scratch/sub.log")
start_broker
d0=$(date +%s%N) du0=$(cpu_ns "$up_pid") db0=$(cpu_ns "$broker_pid")
connected='' drained=''
end=$((SECONDS + drain_limit))
while [ "$SECONDS" -lt "$end" ]; do
	[ -z "$connected" ] && [ "$(up_prop Connected)" = true ] && connected=$(date +%s%N)
	if [ -n "$connected" ] && [ "$(up_prop Backlog)" = 0 ]; then drained=$(date +%s%N); break; fi
	sleep 0.2
done
[ -n "$drained" ] || die "the backlog ($backlog0) did not drain in $drain_limit s ($out/uplink.log)"
du1=$(cpu_ns "$up_pid") db1=$(cpu_ns "$broker_pid")
drain_msgs=$(( $(wc -l <"$scratch/sub.log") - lines0 ))
rss_drain=$(peak_rss_kb "$up_pid")
echo "RESULT drain backlog=$backlog0 connect_ns=$((connected - d0)) drain_ns=$((drained - d0))" \
	"uplink_ns=$((du1 - du0)) broker_ns=$((db1 - db0)) msgs=$drain_msgs rss_kb=$rss_drain" >&2

section=$out/section.md
{
	echo '<!-- bench-uplink: begin -->'
	cat <<EOF
## coldroom-uplink natively, the record of $units units to a local broker

$(produced_by "$cmdline")
The real coldroomd is fed as in bench-native (every unit at 1 Hz) and
coldroom-recorder writes the record as in bench-recorder, but with
**${interval} s intervals** (\`RecordIntervalSec=$interval\`) so that a run takes
minutes: each interval is the same burst of 2 rows a unit (20,000
\`interval\` messages at 10,000 units) that 60 s intervals would bring
once a minute. coldroom-uplink forwards it to a local mosquitto
($("$MOSQUITTO" -h 2>/dev/null | awk 'NR == 1 { print $3; exit }'), plain TCP on 127.0.0.1) that one QoS 1 subscriber
(mosquitto_sub, \`coldroom/v1/#\`) follows; \`state\` messages come on top
(retained; a unit's after each batch of rows that had some of its own,
so one or two a unit each interval). CPU is time on a CPU
(/proc/PID/schedstat) over $intervals whole intervals after the first
forwarded interval, divided by the messages the subscriber received in
them. Delay: from an interval's end (the payload's \`end_us\`) to its
rows' arrival at the subscriber, including the recorder's 5 s grace
before it writes an interval. Shared machine: compare figures of one
run with each other.

| units | messages per interval (interval / state / other) | uplink CPU per message | uplink CPU per interval | share of one core | broker CPU per message | uplink peak RSS | interval end to its first row, median / max | to its last row, median / max |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
	awk -v u="$units" -v k="$intervals" -v m="$msgs" -v ni="$n_interval" -v ns="$n_state" -v no="$n_other" \
		-v uc=$((u1 - u0)) -v bc=$((b1 - b0)) -v w=$((t1 - t0)) -v rss="$rss" \
		-v fm="$first_med" -v fx="$first_max" -v lm="$last_med" -v lx="$last_max" 'BEGIN {
		printf "| %d | %d (%d / %d / %d) | %.1f us | %.0f ms | %.1f %% | %.1f us | %.1f MiB | %.2f / %.2f s | %.2f / %.2f s |\n",
			u, m / k, ni / k, ns / k, no / k, uc / m / 1000, uc / k / 1e6, 100 * uc / w,
			bc / m / 1000, rss / 1024, fm / 1000, fx / 1000, lm / 1000, lx / 1000 }'
	cat <<EOF

Backlog after the window: $backlog_end (record rows and audit entries not
yet acknowledged, read as the window closed). At the default 60 s
intervals the same burst would come once a minute: the uplink's CPU per
interval above is then $(awk -v c=$((u1 - u0)) -v k="$intervals" 'BEGIN { printf "%.1f", 100 * c / k / 60e9 }') % of one core.

A drain: the broker stopped for $outage s (2 intervals) and started again
(the subscriber with it); the uplink reconnects on its own retry timer
(1, 2, 4 ... s after each failure), publishes every unit's retained
\`state\`, then the backlog, oldest first, and the live intervals behind
it. Timed from the broker's start until the uplink's \`Backlog\` property
reads 0 (polled every 0.2 s), CPU over the same span, which includes any
live interval written meanwhile:

| backlog at restart | reconnected after | backlog 0 after | of which after reconnecting | messages at the subscriber | messages per second connected | uplink CPU | uplink CPU per message | broker CPU | uplink peak RSS |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
	awk -v bl="$backlog0" -v c=$((connected - d0)) -v d=$((drained - d0)) -v m="$drain_msgs" \
		-v uc=$((du1 - du0)) -v bc=$((db1 - db0)) -v rss="$rss_drain" 'BEGIN {
		printf "| %d | %.1f s | %.1f s | %.1f s | %d | %.0f | %.0f ms | %.1f us | %.0f ms | %.1f MiB |\n",
			bl, c / 1e9, d / 1e9, (d - c) / 1e9, m, (d > c ? m / ((d - c) / 1e9) : 0), uc / 1e6, (m ? uc / m / 1000 : 0), bc / 1e6, rss / 1024 }'
	echo '<!-- bench-uplink: end -->'
} >"$section"
replace_section bench-uplink "$section" "$output"
echo "bench-uplink: wrote its section of $output"
cat "$section"
