#!/bin/bash
# Guest: what happens to readers of /dev/coldroom when units and modules
# go: readers blocked in read() and in poll(), and a process that only
# keeps the ring mapped (its file descriptor closed).
#  - Units removed (del_device, unbind, rmmod coldroom_sim) under blocked
#    readers: removal completes, readers stay blocked, alive and killable.
#  - rmmod coldroom while a reader has the device open or mapped: refused
#    (EBUSY: the open file and the mapping pin the module); once the last
#    one goes, the module unloads cleanly and loads again.
set -euo pipefail
. /usr/lib/vmtest/bulk-lib.sh

# state PID: the process's state letter (S = sleeping).
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
sleeping() { [ "$(state "$1")" = S ]; }
refcnt() { cat /sys/module/coldroom/refcnt; }

up 4
echo 100 >"$CLASS/sensor0/update_interval_ms"
base=$(refcnt)
echo "coldroom refcnt with coldroom_sim loaded: $base"

"$CRTEST" block read >/tmp/read.out 2>&1 &
rd=$!
"$CRTEST" block poll >/tmp/poll.out 2>&1 &
pl=$!
"$CRTEST" block map >/tmp/map.out 2>&1 &
mp=$!
check "reader blocked in read() sleeps" wait_for 10 sleeping "$rd"
check "reader blocked in poll() sleeps" wait_for 10 sleeping "$pl"
check "mapping holder runs" wait_for 10 grep -q 'blocking in map' /tmp/map.out
check "the mapping holder closed its descriptor but maps /dev/coldroom" \
	wait_for 10 bash -c "grep -q /dev/coldroom /proc/$mp/maps && ! ls -l /proc/$mp/fd | grep -q coldroom"
check "three files pin coldroom (refcnt $(refcnt) = $base + 3)" test "$(refcnt)" -eq $((base + 3))

echo "== units go under blocked readers"
echo SIM-000003 >"$SIMDRV/del_device"
check "del_device with blocked readers: unit gone" test ! -e "$CLASS/sensor3"
pdev=$(basename "$(readlink -f "$CLASS/sensor0/device")")
start=$SECONDS
echo "$pdev" >"$SIMDRV/unbind"
# Blocked readers would hold the unbind for ever; the bound only tells
# "for ever" from an emulated machine under load.
check "unbind of the busiest unit with blocked readers returns ($((SECONDS - start)) s)" \
	test $((SECONDS - start)) -le 60
check "unit 0 gone" test ! -e "$CLASS/sensor0"
echo "$pdev" >"$SIMDRV/bind"
check "bound again: ready" wait_for 30 bash -c "grep -qx ready $CLASS/sensor*/firmware_state"
check "readers still blocked" bash -c "[ \$(awk '{print \$3}' /proc/$rd/stat) = S ] && [ \$(awk '{print \$3}' /proc/$pl/stat) = S ]"
start=$SECONDS
rmmod coldroom_sim
check "rmmod coldroom_sim with readers blocked: done in $((SECONDS - start)) s" test ! -d /sys/module/coldroom_sim
check "no unit left" bash -c "! ls $CLASS | grep -q sensor"
check "read() reader alive and blocked" sleeping "$rd"
check "poll() reader alive and blocked" sleeping "$pl"
check "mapping holder alive" kill -0 "$mp"
check "with coldroom_sim gone, the three readers still hold coldroom (refcnt $(refcnt))" test "$(refcnt)" -eq 3
check "rmmod coldroom is refused while readers exist" bash -c "! rmmod coldroom 2>/tmp/rmmod.err"
cat /tmp/rmmod.err
check "refused as in use (EBUSY), by no other module" bash -c "grep -q 'is in use' /tmp/rmmod.err && ! grep -q 'in use by' /tmp/rmmod.err"
check "the readers did not notice: read() and poll() still blocked" bash -c "[ \$(awk '{print \$3}' /proc/$rd/stat) = S ] && [ \$(awk '{print \$3}' /proc/$pl/stat) = S ]"

echo "== the readers go, one by one"
kill "$rd"
wait "$rd" 2>/dev/null || true
check "the read() reader ended on SIGTERM" bash -c "! kill -0 $rd 2>/dev/null"
check "rmmod still refused (poll reader, mapping)" bash -c "! rmmod coldroom 2>/dev/null"
kill "$pl"
wait "$pl" 2>/dev/null || true
check "the poll() reader ended on SIGTERM" bash -c "! kill -0 $pl 2>/dev/null"
check "rmmod refused while only a mapping is left (refcnt $(refcnt))" bash -c "! rmmod coldroom 2>/dev/null"
kill "$mp"
wait "$mp" 2>/dev/null || true
check "no file left: refcnt 0" wait_for 5 bash -c "[ \"\$(cat /sys/module/coldroom/refcnt)\" -eq 0 ]"
check "rmmod coldroom now succeeds" rmmod coldroom
check "/dev/coldroom is gone" test ! -e "$DEV"

echo "== load again: clean state"
up 2
crt records 20 2
unload_all

echo "== leak check: open/map/read/close cycles, and processes exiting mapped"
up 2
echo 100 >"$CLASS/sensor0/update_interval_ms"
# The counts follow real objects: an open file is one reader, until closed.
readers0=$(allocated readers)
exec 3</dev/coldroom
check "an open /dev/coldroom is one more reader object ($readers0 -> $(allocated readers))" \
	test "$(allocated readers)" -eq $((readers0 + 1))
exec 3<&-
check "closing it frees it" wait_for 5 allocated_is readers "$readers0"
crt cycles 200
slab_snapshot /tmp/slab.before
crt cycles 2000
slab_snapshot /tmp/slab.after
check_none_allocated "after 2200 readers" readers consumer_pages subscription_maps
check "coldroom.ko still counts its 2 sensors" test "$(allocated sensors)" -eq 2
slab_growth /tmp/slab.before /tmp/slab.after >/tmp/slab.diff
read -r _ objects bytes < <(grep '^total ' /tmp/slab.diff)
# The whole guest's figure, for the record only: see slab_growth.
echo "MEMORY: whole guest over 2000 readers: objects in use +$objects ($bytes bytes)"
check "refcnt back to 1 (coldroom_sim only)" test "$(refcnt)" -eq 1
unload_all
check "refcnt returned to 0 and everything unloaded" test ! -d /sys/module/coldroom

finish
