#!/bin/bash
# Guest: for each unit count, load coldroom + coldroom_sim with that many
# units (all ready from /lib/firmware), run coldroom-bench and unload.
# The counts and trials come from /usr/lib/vmtest/bench.conf:
#   COUNTS="10 100 1000 10000"
set -euo pipefail
. /usr/lib/vmtest/driver-lib.sh
. /usr/lib/vmtest/bench.conf
BENCH=/usr/lib/vmtest/coldroom-bench

# udev would spend minutes of emulated CPU on the events of 10,000 units.
systemctl stop systemd-udevd.service systemd-udevd-kernel.socket \
	systemd-udevd-control.socket 2>/dev/null || true

echo "BENCHINFO kernel $(uname -r)"
echo "BENCHINFO cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) x $(nproc)"

all_ready() { [ "$(grep -lx ready "$CLASS"/sensor*/firmware_state 2>/dev/null | wc -l)" -eq "$1" ]; }

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
	wait_for 900 all_ready "$n" || die "$n units did not become ready"
	echo "$n units ready in $((SECONDS - start)) s"
	# Few units make few records: sample them every 100 ms so that the
	# ring trials do not wait long for N fresh records.
	if [ "$n" -le 1000 ]; then
		for d in "$CLASS"/sensor*; do echo 100 >"$d/update_interval_ms"; done
	fi
	sleep 2
	trials=$(( n <= 100 ? 200 : n <= 1000 ? 30 : 5 ))
	ring_trials=$(( n <= 1000 ? 20 : 8 ))
	"$BENCH" "$n" "$trials" "$ring_trials" || die "coldroom-bench $n failed"
	echo "BENCHINFO debugfs $n units: samples_produced $(cat /sys/kernel/debug/coldroom/samples_produced) ring_overruns $(cat /sys/kernel/debug/coldroom/ring_overruns)"
	rmmod coldroom_sim
	rmmod coldroom
done
check_dmesg_clean
echo "RESULT: all passed"
