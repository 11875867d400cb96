#!/bin/bash
# Guest: /dev/coldroom end to end: the node, record format and ordering,
# whole records only, ioctls good and bad, subscriptions, several readers,
# SIGIO, poll() beside a read() stalled on userfaultfd, subscriptions
# charged to the caller's memory cgroup, the mmap ring (same records as
# read(), thermal frames, poll, bad mappings and lying indices), overflow
# accounting, /proc and debugfs, and threads sharing one file.
set -euo pipefail
. /usr/lib/vmtest/bulk-lib.sh

echo "== the node"
up 2
# 20 records a second keep the tests short.
echo 100 >"$CLASS/sensor0/update_interval_ms"
echo 100 >"$CLASS/sensor1/update_interval_ms"
check "$DEV is a character device" test -c "$DEV"
check "one misc device for all units" test "$(cat /sys/class/misc/coldroom/dev | cut -d: -f1)" = 10
check "mode 0600 until udev widens it" test "$(stat -c %a "$DEV")" = 600

echo "== records"
crt records 200 2
crt partial

echo "== ioctl"
crt ioctl 0
# A stuck probe holds still, so ioctl, batch and sysfs must agree exactly.
echo 3 >"$SIMDBG/SIM-000000/stuck"
sleep 1.5
read -r _ t1 t2 < <("$CRTEST" temps 0)
check "READ_TEMP1/2 equal sysfs temp1/temp2 ($t1 $t2)" \
	test "$t1 $t2" = "$(attr sensor0 temp1) $(attr sensor0 temp2)"
# sed, not head: under pipefail, crtest killed by SIGPIPE once head has
# gone would end the script (UML's scheduler lets head go between writes).
line=$("$CRTEST" batch 0 8 | sed -n 1p)
check "the batch's reading of unit 0 equals sysfs ($line)" \
	test "$(echo "$line" | cut -d' ' -f3,4)" = "$(attr sensor0 temp1) $(attr sensor0 temp2)"
check "batch returns both units and no next" test "$("$CRTEST" batch 0 8 | wc -l)" = 3
check "a batch of 1 points at the next unit" test "$("$CRTEST" batch 0 1 | tail -n 1)" = "next 1"
check "a batch from unit 1 returns unit 1 only" test "$("$CRTEST" batch 1 8 | sed -n 1p | cut -d' ' -f1)" = 1
echo 0 >"$SIMDBG/SIM-000000/stuck"
echo 1 >"$SIMDBG/SIM-000001/disconnect"
sleep 1.5
flags=$("$CRTEST" batch 1 1 | sed -n 1p | cut -d' ' -f2)
check "a disconnected probe clears its valid flag in the batch ($flags)" test $((flags & 1)) -eq 0 -a $((flags & 2)) -eq 2
check "and READ_TEMP1 fails with EIO" bash -c "$CRTEST temps 1 | grep -q 'Input/output error'"
echo 0 >"$SIMDBG/SIM-000001/disconnect"

echo "== subscriptions, readers, SIGIO"
crt subscribe 1
crt readers 4
crt sigio
crt quiet 0 999

echo "== poll() never waits for a copy to user memory"
# A read() or GET_SUBSCRIPTION into a userfaultfd page stalls until the
# fault is served (as on FUSE or a remote mapping): poll() and
# epoll_wait() on the same file must still return.
crt uffd read
crt uffd getsub

echo "== subscriptions are charged to the caller's memory cgroup"
# 64 files, each with a map of every unit number (128 KiB): their release
# must show in memory.current of the cgroup that made them.
cg=/sys/fs/cgroup/crtest-memcg
home=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup)
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
		echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "$cg"
	echo $$ >"$cg/cgroup.procs"
	crt memcg "$cg/memory.current" 64
	echo $$ >"/sys/fs/cgroup$home/cgroup.procs"
	rmdir "$cg"
else
	fail "no memory controller in /sys/fs/cgroup: cannot check the charge"
fi

echo "== mmap ring"
crt mmap 300
crt mmap-abuse

echo "== diagnostics"
cat /proc/driver/coldroom
check "/proc/driver/coldroom: header and one line per unit" test "$(wc -l </proc/driver/coldroom)" = 3
check "/proc/driver/coldroom lists SIM-000001 ready with a CRS-210T" \
	grep -qE '^sensor1 +CRS-210T +SIM-000001 +ready +[0-9]+ +-?[0-9]+ +-?[0-9]+ [01][01]$' /proc/driver/coldroom
for c in samples_produced samples_dropped frames_produced ring_overruns records_lost firmware_loads; do
	echo "debugfs $c: $(counter $c)"
done
check "debugfs: samples produced" test "$(counter samples_produced)" -gt 100
check "debugfs: frames produced (the CRS-210T unit)" test "$(counter frames_produced)" -gt 10
check "debugfs: two firmware loads" test "$(counter firmware_loads)" = 2
check "debugfs: no overrun yet" test "$(counter ring_overruns)" = 0
echo 1 >"$CLASS/sensor0/firmware_reload"
check "reload from /lib/firmware: ready again" wait_for 20 state_is sensor0 ready
check "debugfs: firmware_loads counts the reload" test "$(counter firmware_loads)" = 3

echo "== overflow with a small ring"
unload_all
check "ring_records must be a power of two" bash -c "! insmod $MODULES/coldroom.ko ring_records=100 2>/dev/null"
check "ring_frames too small refused" bash -c "! insmod $MODULES/coldroom.ko ring_frames=4 2>/dev/null"
check "and nothing stays loaded" test ! -d /sys/module/coldroom
up 2 ring_records=64 ring_frames=16
echo 100 >"$CLASS/sensor0/update_interval_ms"
echo 100 >"$CLASS/sensor1/update_interval_ms"
crt overflow
check "debugfs: ring_overruns counted" test "$(counter ring_overruns)" -ge 1
check "debugfs: records_lost counted" test "$(counter records_lost)" -ge 64
unload_all

echo "== one file, many threads: read, GET_SUBSCRIPTION and mmap at once"
# Into pages not faulted in yet, so that read() and the ioctl fault while
# another thread's mmap() holds mmap_lock: no lock of the driver may be
# held across both.
up 40
crt lockorder 20
unload_all

finish
