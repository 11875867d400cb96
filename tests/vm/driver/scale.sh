#!/bin/bash
# Guest: 10,000 simulated units at once: all get their firmware from
# /lib/firmware and sample, without soft lockups or stalls; reports kernel
# memory per unit and removes them all cleanly, leaving none of the
# module's objects behind.
set -euo pipefail
. /usr/lib/vmtest/driver-lib.sh

N=${COLDROOM_SCALE_UNITS:-10000}

# The kernel side is under test: udev would spend minutes of emulated CPU
# on the ~60,000 events. They are still sent, nobody listens.
systemctl stop systemd-udevd.service systemd-udevd-kernel.socket \
	systemd-udevd-control.socket 2>/dev/null || true

mkdir -p "$FWDIR"
# One process for all the links: a fork per link costs minutes under TCG.
python3 - "$N" "$BLOBS" "$FWDIR" <<'PY'
import os, sys
n, blobs, fwdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(n):
    model, blob = ("CRS-210T", "crs210t.fw") if i % 2 else ("CRS-200", "crs200.fw")
    os.symlink(f"{blobs}/{blob}", f"{fwdir}/{model}-SIM-{i:06d}.fw")
PY
pass "$N firmware files linked in $FWDIR"

meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
settle() { sync; echo 3 >/proc/sys/vm/drop_caches; sleep 1; }

load_core
settle
slab_snapshot /tmp/slab.before
slab0=$(meminfo Slab) avail0=$(meminfo MemAvailable) vmalloc0=$(meminfo VmallocUsed)
percpu0=$(meminfo Percpu) stack0=$(meminfo KernelStack)

start=$SECONDS
load_sim units="$N"
echo "insmod coldroom_sim units=$N took $((SECONDS - start)) s"
count=$(ls "$CLASS" | wc -l)
check "$N units registered" test "$count" -eq "$N"
check "coldroom.ko counts $N sensor objects ($(allocated sensors))" test "$(allocated sensors)" -eq "$N"

ready() { [ "$(grep -lx ready "$CLASS"/sensor*/firmware_state | wc -l)" -eq "$N" ]; }
start=$SECONDS
check "all $N units ready from /lib/firmware" wait_for 900 ready
echo "firmware for $N units took $((SECONDS - start)) s"
cat "$CLASS"/sensor*/firmware_state | sort | uniq -c
# Odd units are CRS-210T, with an imager: one frame buffer each.
check "coldroom.ko counts $((N / 2)) frame buffers ($(allocated frame_buffers))" \
	test "$(allocated frame_buffers)" -eq $((N / 2))

sleep 3
settle
slab1=$(meminfo Slab) avail1=$(meminfo MemAvailable) vmalloc1=$(meminfo VmallocUsed)
percpu1=$(meminfo Percpu) stack1=$(meminfo KernelStack)
kernel_kb=$(( (slab1 - slab0) + (vmalloc1 - vmalloc0) + (percpu1 - percpu0) + (stack1 - stack0) ))
echo "MEMORY: slab +$((slab1 - slab0)) kB, vmalloc +$((vmalloc1 - vmalloc0)) kB, percpu +$((percpu1 - percpu0)) kB, stacks +$((stack1 - stack0)) kB"
echo "MEMORY: kernel memory per unit: $((kernel_kb * 1024 / N)) bytes (slab+vmalloc+percpu+stacks); MemAvailable drop per unit: $(( (avail0 - avail1) * 1024 / N )) bytes"
grep -E '^(kmalloc-(1k|2k|4k|512|256|192)|kernfs_node_cache|dentry|inode_cache|debugfs|sysfs)' /proc/slabinfo | awk '{printf "SLAB: %-20s %8d objs x %5d B\n", $1, $2, $4}' || true
check "kernel memory per unit under 64 KiB" test $((kernel_kb * 1024 / N)) -lt 65536

echo "== sampling at scale"
# Every unit goes on sampling: each one's sample_seq advances over a window
# of 10 s, in which it is due 10 or 20 times. The rate is a figure, not a
# verdict: under emulation it follows the host's load (make bench measures
# the reading paths).
seqs() { cat "$CLASS"/sensor*/sample_seq; }
# Reading 10,000 files takes a while: time the window, not the sleep.
t0=$(date +%s%N)
seqs >/tmp/seq.0
sleep 10
t1=$(date +%s%N)
seqs >/tmp/seq.1
read -r rate stalled unsampled < <(paste /tmp/seq.0 /tmp/seq.1 | awk -v ns=$((t1 - t0)) '
	{d += $2 - $1; if ($2 <= $1) st++; if ($2 == 0) z++}
	END {printf "%.0f %d %d\n", d * 1e9 / ns, st, z}')
# CRS-200 blobs sample every 500 ms, CRS-210T every 1000 ms: 1.5 x N per second.
echo "RATE: samples per second across $N units: $rate (nominal $((N * 3 / 2)))"
check "every unit has sampled ($unsampled have not)" test "$unsampled" -eq 0
check "every unit sampled again within the window ($stalled did not)" test "$stalled" -eq 0
last=$(ls -v "$CLASS" | tail -n 1)
t=$(cat "$CLASS/$last/temp1")
check "the last unit ($last) reads a plausible temp1 ($t)" test "$t" -ge -30000 -a "$t" -le -5000
echo "load average: $(cat /proc/loadavg)"

echo "== hwmon with $N units"
# "sensors" itself is proven in the basic test; listing 10,000 chips takes
# minutes under emulation, so count the hwmon devices it would list.
chips=$(grep -lx coldroom /sys/class/hwmon/hwmon*/name | wc -l)
check "hwmon has all $N units" test "$chips" -eq "$N"

echo "== remove all"
start=$SECONDS
check "rmmod coldroom_sim with $N units" rmmod coldroom_sim
echo "rmmod took $((SECONDS - start)) s"
check_none_allocated "after $N units"
check "rmmod coldroom" rmmod coldroom
settle
slab2=$(meminfo Slab)
slab_snapshot /tmp/slab.after
slab_growth /tmp/slab.before /tmp/slab.after >/tmp/slab.diff
read -r _ objects bytes < <(grep '^total ' /tmp/slab.diff)
# The whole guest's figure, for the record only: see slab_growth.
echo "MEMORY: whole guest after unload: slab $slab2 kB (before load $slab0 kB), objects in use +$objects ($bytes bytes)"

finish
