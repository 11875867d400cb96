#!/bin/bash
# Host: what a Prometheus scrape of coldroom-metrics costs natively at
# 10,000 units fed at 1 Hz (as in run.sh: the real coldroomd reading a
# FIFO of /dev/coldroom records, a private dbus-daemon with the project's
# policy). coldroom-metrics listens on a local port (--listen) and is
# scraped with curl, one scrape at a time, a fixed number of times:
#   - coldroom-metrics' CPU per scrape (ns on CPU from /proc/PID/schedstat,
#     around each scrape): GetReadings' reply decoded and the page built;
#   - coldroomd's CPU over the same span, and its CPU over as long a span
#     without a scrape (its readings work), the difference being what a
#     scrape costs it;
#   - the scrape's wall time at the client and the page's size;
#   - sample-to-signal latency of coldroomd's Readings (dbus-latency) over
#     a window without scrapes and one with a scrape every 0.5 s: scrapes
#     must not delay readings.
# Prints a markdown table (BENCHMARKS.md is not touched).
#
#   metrics.sh [--units N] [--scrapes K] [--seconds S]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
out=$O/bench-metrics
units=10000
scrapes=20
seconds=10
cmdline="tests/bench/native/metrics.sh${*:+ $*}"
while [ $# -gt 0 ]; do
	case "$1" in
	--units) units=${2:?}; shift 2 ;;
	--scrapes) scrapes=${2:?}; shift 2 ;;
	--seconds) seconds=${2:?}; shift 2 ;;
	*) echo "usage: metrics.sh [--units N] [--scrapes K] [--seconds S]" >&2; exit 2 ;;
	esac
done

die() { echo "bench-metrics: $*" >&2; exit 1; }
. "$here/lib.sh"
command -v curl >/dev/null || die "curl is missing (make deps)"
rm -rf "$out"
mkdir -p "$out"
make -s -C "$top/daemon" O="$O" >/dev/null || die "building the daemons failed"
${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror -I"$top/include/uapi" \
	-o "$out/feeder" "$here/feeder.c" || die "building the feeder failed"
${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror -I"$top/daemon" -o "$out/dbus-latency" \
	"$top/tests/bench/dbus-latency.c" -lsystemd || die "building dbus-latency failed"

make_scratch bench-metrics

start_fed_coldroomd "$out" "$scratch/sys" "$units" $((3 * seconds + scrapes + 600))

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$O/daemon/coldroom-metrics" --bus "$addr" --listen "127.0.0.1:$port" 2>"$out/metrics.log" &
metrics_pid=$!
pids+=("$metrics_pid")
url=http://127.0.0.1:$port/metrics
# Ready: a page with every unit on it.
for _ in $(seq 300); do
	curl -s --max-time 10 "$url" 2>/dev/null | grep -qx "coldroom_units $units" && break
	sleep 0.2
done
curl -s --max-time 10 "$url" | grep -qx "coldroom_units $units" ||
	die "coldroom-metrics does not serve $units units ($out/metrics.log)"
sleep 3	# warm-up: every unit has sampled

# Readings latency without scrapes, then with a scrape every 0.5 s.
DBUS_SYSTEM_BUS_ADDRESS=$addr "$out/dbus-latency" "$seconds" >"$out/latency-idle" ||
	die "dbus-latency failed"
DBUS_SYSTEM_BUS_ADDRESS=$addr "$out/dbus-latency" "$seconds" >"$out/latency-scraped" &
lat_pid=$!
end=$((SECONDS + seconds))
while [ "$SECONDS" -lt "$end" ]; do curl -s --max-time 10 -o /dev/null "$url"; sleep 0.5; done
wait "$lat_pid" || die "dbus-latency failed"

# coldroomd's own work over a span as long as a scrape: its rate per ns.
d0=$(cpu_ns "$daemon_pid") t0=$(date +%s%N)
sleep 5
d1=$(cpu_ns "$daemon_pid") t1=$(date +%s%N)
idle_rate=$(awk -v c=$((d1 - d0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.6f", c / t }')

: >"$out/scrapes"
for i in $(seq "$scrapes"); do
	m0=$(cpu_ns "$metrics_pid") d0=$(cpu_ns "$daemon_pid") t0=$(date +%s%N)
	read -r code size wall < <(curl -s --max-time 10 -o "$out/page" -w '%{http_code} %{size_download} %{time_total}\n' "$url")
	m1=$(cpu_ns "$metrics_pid") d1=$(cpu_ns "$daemon_pid") t1=$(date +%s%N)
	[ "$code" = 200 ] || die "scrape $i: HTTP $code"
	# SCRAPE <metrics ns> <coldroomd ns> <span ns> <wall s> <bytes>
	echo "SCRAPE $((m1 - m0)) $((d1 - d0)) $((t1 - t0)) $wall $size" >>"$out/scrapes"
	sleep 0.5
done
lines=$(grep -vc '^#' "$out/page")
rss=$(peak_rss_kb "$metrics_pid")

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
read -r _ _ idle_p50 idle_p99 idle_max _ <"$out/latency-idle"
read -r _ _ busy_p50 busy_p99 busy_max _ <"$out/latency-scraped"
cat <<EOF
## coldroom-metrics natively, $units units at 1 Hz

Produced by \`$cmdline\` on $(date -u +%Y-%m-%d), $(nproc) CPUs ($cpu_model).
The real coldroomd is fed as in bench-native; coldroom-metrics is scraped
$scrapes times, one at a time, 0.5 s apart. A page is $lines samples
($(awk '{ s = $6 } END { printf "%.1f", s / 1048576 }' "$out/scrapes") MiB);
coldroom-metrics' peak RSS $(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }') MiB.
coldroomd's CPU for a scrape is its CPU over the scrape's span less its
readings work over as long a span (measured without scrapes).

| per scrape | min | median | max |
|---|---:|---:|---:|
EOF
awk -v rate="$idle_rate" '
	{ m[NR] = $2 / 1e6; d[NR] = ($3 - rate * $4) / 1e6; w[NR] = $5 * 1000 }
	function row(name, a,   n, i, j, t) {
		n = NR
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		printf "| %s | %.1f ms | %.1f ms | %.1f ms |\n", name, a[1], (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2), a[n]
	}
	END {
		row("coldroom-metrics CPU", m)
		row("coldroomd CPU (beyond its readings work)", d)
		row("scrape wall time at the client", w)
	}' "$out/scrapes"
cat <<EOF

| coldroomd's readings, sample to Readings signal | p50 | p99 | max |
|---|---:|---:|---:|
| no scrapes, $seconds s | $idle_p50 us | $idle_p99 us | $idle_max us |
| a scrape every 0.5 s, $seconds s | $busy_p50 us | $busy_p99 us | $busy_max us |
EOF
