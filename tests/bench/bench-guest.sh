#!/bin/bash
# Guest: for each unit count, load coldroom + coldroom_sim with that many
# units (all ready from /lib/firmware), run coldroom-bench; at DAEMON_UNITS
# units, also measure coldroomd at 1 Hz (CPU, memory, signal latency) and
# a Prometheus scrape of every unit: coldroom-metrics beside the peer a
# user would otherwise pick, prometheus-node-exporter's hwmon collector
# (CPU per scrape, scrape duration, page size); unload.
# The counts come from /usr/lib/vmtest/bench.conf:
#   COUNTS="10 100 1000 10000" DAEMON_UNITS=10000 DAEMON_SECONDS=60
#   SCRAPE_ONLY=1: only the scrape comparison, at each count
set -euo pipefail
. /usr/lib/vmtest/daemon-lib.sh
. /usr/lib/vmtest/bench.conf
BENCH=/usr/lib/vmtest/coldroom-bench
LATENCY=/usr/lib/vmtest/dbus-latency
NODE_EXPORTER=/usr/lib/vmtest/prometheus-node-exporter
SCRAPES=${SCRAPES:-3}

# udev would spend minutes of emulated CPU on the events of 10,000 units.
systemctl stop systemd-udevd.service systemd-udevd-kernel.socket \
	systemd-udevd-control.socket 2>/dev/null || true

echo "BENCHINFO kernel $(uname -r)"
echo "BENCHINFO cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) x $(nproc)"

units_ready() { [ "$(grep -lx ready "$CLASS"/sensor*/firmware_state 2>/dev/null | wc -l)" -eq "$1" ]; }

# CPU time of a process so far, in ns (the scheduler's own accounting).
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
samples_produced() { cat /sys/kernel/debug/coldroom/samples_produced; }

# daemon_run N NAME CONFIG [DROPIN]: coldroomd with CONFIG as its
# coldroomd.conf and DROPIN in its unit, over DAEMON_SECONDS after a
# warm-up, with a D-Bus client measuring the latency meanwhile. Prints
#   DAEMON N NAME SOURCE SECONDS CPU_NS DBUS_CPU_NS RSS_KB HWM_KB SAMPLES START_S
#   LATENCY N NAME READINGS P50_US P99_US MAX_US READINGSCHANGED PROPERTIESCHANGED
daemon_run() {
	local n=$1 name=$2 pid dbus start started cpu0 cpu1 dcpu0 dcpu1 s0 s1 lat source
	printf '%s\n' "$3" >/etc/coldroom/coldroomd.conf
	printf '[Service]\n%s\n' "${4:-}" >/run/systemd/system/coldroomd.service.d/bench.conf
	systemctl daemon-reload
	start=$SECONDS
	systemctl start coldroomd ||
		{ journalctl -b -u coldroomd --no-pager -n 40; die "coldroomd ($name) did not start"; }
	started=$((SECONDS - start))
	pid=$(systemctl show -p MainPID --value coldroomd)
	dbus=$(systemctl show -p MainPID --value dbus)
	sleep 10
	"$LATENCY" "$DAEMON_SECONDS" >/tmp/latency &
	cpu0=$(cpu_ns "$pid") dcpu0=$(cpu_ns "$dbus") s0=$(samples_produced)
	sleep "$DAEMON_SECONDS"
	cpu1=$(cpu_ns "$pid") dcpu1=$(cpu_ns "$dbus") s1=$(samples_produced)
	wait $! || die "dbus-latency ($name) failed"
	# A saturated daemon may not answer in time: say so, in one word.
	source=$(manager_prop ReadingSource 2>/dev/null)
	echo "DAEMON $n $name ${source:-unanswered} $DAEMON_SECONDS $((cpu1 - cpu0))" \
		"$((dcpu1 - dcpu0)) $(status_kb "$pid" VmRSS) $(status_kb "$pid" VmHWM)" \
		"$((s1 - s0)) $started"
	read -r _ lat </tmp/latency
	echo "LATENCY $n $name $lat"
	systemctl stop coldroomd
}

daemon_bench() { # daemon_bench N
	local d
	install_daemon
	# The units load their blobs from /lib/firmware: nothing to serve.
	for d in "$CLASS"/sensor*; do echo 1000 >"$d/update_interval_ms"; done
	daemon_run "$1" device-unit-signals "UnitPropertiesChanged=yes"
	daemon_run "$1" device "UnitPropertiesChanged=no"
	# An empty DeviceAllow= refuses /dev/coldroom: the sysfs fallback.
	daemon_run "$1" sysfs "UnitPropertiesChanged=no" "DeviceAllow="
}

# scrape_run N NAME URL PID [PID2]: SCRAPES scrapes of URL, one at a time.
# Prints SCRAPE N NAME SCRAPES CPU_NS_PER_SCRAPE CPU2_NS_PER_SCRAPE
# WALL_US_PER_SCRAPE BYTES SAMPLES: the CPU of PID (and PID2: coldroomd,
# which answers coldroom-metrics' GetReadings) over the scrapes, beyond
# what PID2 spends meanwhile on its readings (measured as long, idle).
scrape_run() {
	local n=$1 name=$2 url=$3 pid=$4 pid2=${5:-} c0 c1 d0 d1 w0 w1 i idle=0 t0
	curl -sf --max-time 600 -o /tmp/scrape "$url" || die "$name: the first scrape failed"
	if [ -n "$pid2" ]; then
		t0=$(date +%s%N) d0=$(cpu_ns "$pid2")
		sleep 10
		d1=$(cpu_ns "$pid2") w1=$(date +%s%N)
		idle=$(( (d1 - d0) * 1000000 / ((w1 - t0) / 1000) ))	# ns of CPU per s
	fi
	c0=$(cpu_ns "$pid") d0=$(cpu_ns "${pid2:-$pid}") w0=$(date +%s%N)
	for i in $(seq "$SCRAPES"); do
		curl -sf --max-time 600 -o /tmp/scrape "$url" || die "$name: scrape $i failed"
	done
	c1=$(cpu_ns "$pid") d1=$(cpu_ns "${pid2:-$pid}") w1=$(date +%s%N)
	local wall_us=$(( (w1 - w0) / 1000 ))
	local extra=0
	[ -z "$pid2" ] || extra=$(( (d1 - d0 - idle * wall_us / 1000000) / SCRAPES ))
	echo "SCRAPE $n $name $SCRAPES $(( (c1 - c0) / SCRAPES )) $extra $(( wall_us / SCRAPES ))" \
		"$(stat -c %s /tmp/scrape) $(grep -c '^[a-z]' /tmp/scrape)"
}

# scrape_bench N: coldroomd running in its default configuration; the two
# exporters, each alone, the same units.
scrape_bench() {
	local n=$1 pid metrics exporter
	printf '[Service]\n' >/run/systemd/system/coldroomd.service.d/bench.conf
	: >/etc/coldroom/coldroomd.conf
	systemctl daemon-reload
	systemctl start coldroomd || die "coldroomd did not start"
	pid=$(systemctl show -p MainPID --value coldroomd)
	sleep 10
	"$FILES/coldroom-metrics" --listen 127.0.0.1:9863 2>/tmp/metrics.log &
	metrics=$!
	wait_for 60 curl -sf -o /dev/null http://127.0.0.1:9863/ || die "coldroom-metrics did not listen"
	scrape_run "$n" coldroom-metrics http://127.0.0.1:9863/metrics "$metrics" "$pid"
	kill "$metrics"; wait "$metrics" 2>/dev/null || true
	systemctl stop coldroomd
	"$NODE_EXPORTER" --collector.disable-defaults --collector.hwmon \
		--web.listen-address=127.0.0.1:9100 2>/tmp/node-exporter.log &
	exporter=$!
	wait_for 60 curl -sf -o /dev/null http://127.0.0.1:9100/ || die "node-exporter did not listen"
	scrape_run "$n" node-exporter-hwmon http://127.0.0.1:9100/metrics "$exporter"
	kill "$exporter"; wait "$exporter" 2>/dev/null || true
}

for n in $COUNTS; do
	echo "== $n units"
	rm -rf "$FWDIR"
	mkdir -p "$FWDIR"
	python3 - "$n" "$BLOBS" "$FWDIR" <<'PY'
import os, sys
n, blobs, fwdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(n):
    model, blob = ("CRS-210T", "crs210t.fw") if i % 2 else ("CRS-200", "crs200.fw")
    os.symlink(f"{blobs}/{blob}", f"{fwdir}/{model}-SIM-{i:06d}.fw")
PY
	load_core
	start=$SECONDS
	load_sim units="$n" door_interval_s=0
	wait_for 900 units_ready "$n" || die "$n units did not become ready"
	echo "$n units ready in $((SECONDS - start)) s"
	# Few units make few records: sample them every 100 ms so that the
	# ring trials do not wait long for N fresh records.
	if [ "$n" -le 1000 ]; then
		for d in "$CLASS"/sensor*; do echo 100 >"$d/update_interval_ms"; done
	fi
	sleep 2
	if [ "${SCRAPE_ONLY:-0}" = 1 ]; then
		install_daemon
		for d in "$CLASS"/sensor*; do echo 1000 >"$d/update_interval_ms"; done
		scrape_bench "$n"
		rmmod coldroom_sim
		rmmod coldroom
		continue
	fi
	trials=$(( n <= 100 ? 200 : n <= 1000 ? 30 : 5 ))
	ring_trials=$(( n <= 1000 ? 20 : 8 ))
	"$BENCH" "$n" "$trials" "$ring_trials" || die "coldroom-bench $n failed"
	echo "BENCHINFO debugfs $n units: samples_produced $(cat /sys/kernel/debug/coldroom/samples_produced) ring_overruns $(cat /sys/kernel/debug/coldroom/ring_overruns)"
	if [ "$n" = "${DAEMON_UNITS:-}" ]; then
		daemon_bench "$n"
		scrape_bench "$n"
	fi
	rmmod coldroom_sim
	rmmod coldroom
done
check_dmesg_clean
echo "RESULT: all passed"
