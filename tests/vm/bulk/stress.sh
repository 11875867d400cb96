#!/bin/bash
# Guest: coldroom.ko under real concurrency, each part bounded in time:
#  - threads sharing one /dev/coldroom file (read, poll, the subscription
#    and batch ioctls, mmap/munmap of the ring and the consumer page) while
#    units are added and removed through the simulator and their sysfs
#    attributes are read and written;
#  - the simulator unbound and unloaded while firmware loads are under way
#    and fallback requests wait, many times over;
#  - firmware_reload racing loading;
#  - add/remove cycles under readers, then memory back: the module's own
#    objects at zero, and on a kernel with kmemleak (the debug kernels),
#    1,000 cycles with slab plus page allocator within a stated bound.
# Every process must end (a hang fails the run through the timeout), the
# units must settle in a sound state and the kernel log must stay clean.
set -euo pipefail
. /usr/lib/vmtest/bulk-lib.sh

# loop_for SECONDS COMMAND...: runs COMMAND again and again for SECONDS,
# then prints how many times it ran (a hang shows as a missing count).
loop_for() {
	local end=$((SECONDS + $1)) n=0
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 || true
		n=$((n + 1))
	done
	echo "$n"
}

churn() { # one unit added and removed again
	echo "CRS-200 CHURN-$1" >"$SIMDRV/new_device"
	echo "CHURN-$1" >"$SIMDRV/del_device"
}
sysfs_traffic() { # reads and writes of every unit's attributes
	local d
	for d in "$CLASS"/sensor*; do
		cat "$d/temp1" "$d/temp2" "$d/temp1_alarm" "$d/firmware_state" "$d/label"
		echo 1000 >"$d/update_interval_ms"
		echo -30000 >"$d/temp1_min"
		echo "Room" >"$d/label"
		cat "$d/device/hwmon"/hwmon*/temp1_input
	done
	cat /proc/driver/coldroom
}

# unload_checked WHEN: both modules out, and in between (the counters
# live in coldroom.ko's debugfs) none of its objects left.
unload_checked() {
	rmmod coldroom_sim
	abort_fallbacks || fail "$1: requests still hold coldroom.ko"
	check_none_allocated "$1"
	rmmod coldroom
}

mkdir -p "$FWDIR"
ln -sf "$BLOBS/crs200.fw" "$FWDIR/CRS-200-CHURN-1.fw"

echo "== one file, eight threads, while units come and go"
up 8
echo 100 >"$CLASS/sensor0/update_interval_ms"
"$CRTEST" lockorder 30 >/tmp/lockorder.out 2>&1 &
lockorder=$!
loop_for 30 churn 1 >/tmp/churn.count &
churner=$!
loop_for 30 sysfs_traffic >/tmp/sysfs.count &
traffic=$!
wait "$churner" "$traffic"
check "units added and removed 30 s long ($(cat /tmp/churn.count) times)" test "$(cat /tmp/churn.count)" -gt 0
check "sysfs read and written 30 s long ($(cat /tmp/sysfs.count) rounds)" test "$(cat /tmp/sysfs.count)" -gt 0
if wait "$lockorder"; then pass "the threads sharing one file all made progress"; else fail "lockorder"; fi
sed 's/^/  /' /tmp/lockorder.out
check "no unit left over from the churn" test -z "$(sensor_of CHURN-1 2>/dev/null)"
check "the eight units are still ready" all_ready 8
unload_checked "after the churn"

echo "== the simulator goes while loads are under way and requests wait"
# Even units read their blob directly, odd ones wait on the fallback.
link_blobs 64
for i in $(seq 1 2 63); do rm -f "$FWDIR/CRS-210T-SIM-$(printf %06d "$i").fw"; done
for round in $(seq 10); do
	load_core max_fw_requests=4
	load_sim units=64 door_interval_s=0
	# Loads in flight: some units pending, some loading, some ready.
	if [ $((round % 2)) -eq 0 ]; then
		echo coldroom_sim.0 >"$SIMDRV/unbind"
		echo coldroom_sim.1 >"$SIMDRV/unbind"
	fi
	rmmod coldroom_sim
	abort_fallbacks || fail "round $round: requests still hold coldroom.ko"
	none_allocated sensors || fail "round $round: sensors still allocated: $(allocated sensors)"
	rmmod coldroom
done
pass "10 rounds of unbind and rmmod with loads in flight and requests waiting"

echo "== firmware_reload racing loading"
up 16 max_fw_requests=2
reloader() { local d; for d in "$CLASS"/sensor*; do echo 1 >"$d/firmware_reload"; done; }
loop_for 20 reloader >/tmp/reload1.count &
r1=$!
loop_for 20 reloader >/tmp/reload2.count &
r2=$!
wait "$r1" "$r2"
check "reloads of 16 units from two writers for 20 s ($(cat /tmp/reload1.count) + $(cat /tmp/reload2.count) rounds)" \
	test "$(cat /tmp/reload1.count)" -gt 0
# Every unit has its blob in /lib/firmware: all settle ready, none is
# left pending or loading with nothing under way.
check "every unit settles ready" wait_for 60 all_ready 16
seq0=$(attr sensor15 sample_seq)
check "and samples" wait_for 10 attr_ge sensor15 sample_seq $((seq0 + 2))
unload_checked "after the reloads"

# The leak proof (1,000 unit lifetimes, kmemleak and the allocators' totals)
# is the debug kernels' part; on the stock kernel the cycles are there for
# two CPUs' interleavings, which 200 of them give in a quarter of the time.
if [ -e "$KMEMLEAK" ]; then cycles=1000; else cycles=200; fi
echo "== $cycles units added and removed under readers"
up 2
# Each with its blob: every cycle loads it, samples, and (CRS-210T) keeps
# a thermal frame buffer.
python3 - "$BLOBS" "$FWDIR" "$cycles" <<'PY'
import os, sys
blobs, fwdir, cycles = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(1, cycles + 1):
    model, blob = ("CRS-210T", "crs210t.fw") if i % 2 else ("CRS-200", "crs200.fw")
    os.symlink(f"{blobs}/{blob}", f"{fwdir}/{model}-CYCLE-{i}.fw")
PY
cycle_model() { if [ $(($1 % 2)) -eq 1 ]; then echo CRS-210T; else echo CRS-200; fi; }
# The kernel's allocators (slab, vmalloc, per-cpu): what a leak of unit
# state grows. The free-page count is reported, not judged: with a disk
# root it moves by tens of MB with udevd's backlog, per-cpu page lists
# and transparent huge pages, none of which is the module's.
kernel_kb() {
	awk '/^(Slab|VmallocUsed|Percpu):/ {u += $2} END {print u}' /proc/meminfo
}
slab_kb() { awk '/^(SReclaimable|SUnreclaim):/ {s += $2} END {print s}' /proc/meminfo; }
# The modules' own page-allocator areas (vmalloc and vmalloc_user, which
# alloc_pages backs): their count and bytes, from /proc/vmallocinfo. The
# single pages the module takes itself are its consumer_pages counter.
module_pages() {
	awk '/\[coldroom(_sim)?\]/ {n++; b += $2} END {printf "%d areas, %d bytes\n", n, b}' \
		/proc/vmallocinfo
}
# Measured with the guest quiet: udev's queue empty (2,000 uevents take
# minutes to drain under emulation), caches given back.
settle_memory() {
	udevadm settle --timeout=600 || echo "udev queue not empty after 600 s"
	sync
	echo 3 >/proc/sys/vm/drop_caches
}
settle_memory
kernel0=$(kernel_kb) slab0=$(slab_kb) pages0=$(module_pages)
cp /proc/meminfo /tmp/meminfo.before
"$CRTEST" block read >/dev/null 2>&1 &
reader1=$!
"$CRTEST" block poll >/dev/null 2>&1 &
reader2=$!
for i in $(seq "$cycles"); do
	echo "$(cycle_model "$i") CYCLE-$i" >"$SIMDRV/new_device"
	echo "CYCLE-$i" >"$SIMDRV/del_device"
done
pass "$cycles add/remove cycles under a blocked read() and a poll() reader"
kill "$reader1" "$reader2"
wait "$reader1" "$reader2" 2>/dev/null || true
two_units_left() { allocated_is sensors 2 && allocated_is readers 0; }
check "$cycles cycles later the module holds the two units' objects only" wait_for 30 two_units_left
settle_memory
kernel1=$(kernel_kb) slab1=$(slab_kb) pages1=$(module_pages)
# For the record: how each figure moved.
awk 'NR == FNR {a[$1] = $2; next} $2 != a[$1] {printf "  %s %+d kB\n", $1, $2 - a[$1]}' \
	/tmp/meminfo.before /proc/meminfo
echo "MEMORY: over $cycles unit lifetimes: slab+vmalloc+percpu $kernel0 -> $kernel1 kB, slab $slab0 -> $slab1 kB; modules' vmalloc areas: $pages0 -> $pages1"
# A unit costs about 27 kB of kernel memory while it lives (scale.sh); a
# leak of a unit's worth per cycle would be 27 MB over 1,000 cycles. 8 MB
# (8 kB a cycle) leaves room for what the rest of the guest grows
# meanwhile; over 200 cycles that room would hide such a leak, so the
# totals are judged over 1,000 only.
if [ "$cycles" -ge 1000 ]; then
	check "kernel allocators (slab, vmalloc, per-cpu) back within 8 MB ($((kernel1 - kernel0)) kB more)" \
		test $((kernel1 - kernel0)) -lt 8192
	check "slab back within 8 MB ($((slab1 - slab0)) kB more)" test $((slab1 - slab0)) -lt 8192
fi
check "the modules' own vmalloc areas as before the cycles ($pages1)" test "$pages0" = "$pages1"
unload_checked "after $cycles cycles and the unload"
rm -f "$FWDIR"/*.fw

finish
