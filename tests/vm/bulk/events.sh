#!/bin/bash
# Guest: the "coldroom" generic netlink family: a raw AF_NETLINK client
# (crtest events) joins the "events" group and sees units added and
# removed, firmware state changes (loading, ready, failed with the reason)
# and alarms set and cleared, with the attributes the ABI promises.
set -euo pipefail
. /usr/lib/vmtest/bulk-lib.sh

EV=/tmp/events
# seen PATTERN: an event line matching PATTERN arrived (within 20 s).
seen() { wait_for 20 grep -qE "$1" "$EV"; }

load_core
"$CRTEST" events 600 >"$EV" &
listener=$!
check "the listener resolved the family and joined \"events\"" wait_for 10 grep -q '^listening' "$EV"
head -n 1 "$EV"

echo "== units and firmware"
link_blobs 1    # unit 0 from /lib/firmware, unit 1 through the fallback
load_sim units=2 door_interval_s=0
check "unit-added for unit 0 with model and serial" seen '^event unit-added unit=0 model=CRS-200 serial=SIM-000000$'
check "unit-added for unit 1" seen '^event unit-added unit=1 model=CRS-210T serial=SIM-000001$'
check "firmware loading event" seen '^event firmware unit=0 .* state_id=2 state=loading error=-$'
check "firmware ready event (direct load)" seen '^event firmware unit=0 .* state_id=3 state=ready error=-$'
check "unit 1 waits on the fallback" wait_for 20 state_is sensor1 loading
serve sensor1 "$BLOBS/corrupt.fw"
reason=$(sed -n 's/^corrupt.fw: //p' "$BLOBS/errors.txt")
check "firmware failed event with the parser's reason ($reason)" \
	seen "^event firmware unit=1 model=CRS-210T serial=SIM-000001 state_id=4 state=failed error=$reason$"
echo 1 >"$CLASS/sensor1/firmware_reload"
serve sensor1 "$BLOBS/crs210t.fw"
check "pending again after the reload" seen '^event firmware unit=1 .* state=pending'
check "ready through the fallback" seen '^event firmware unit=1 .* state=ready error=-$'

echo "== alarms"
wait_for 10 attr_ge sensor0 sample_seq 2
# The room stays within -18 +- 1.5 C: always above this maximum.
echo -21000 >"$CLASS/sensor0/temp1_max"
check "alarm set on channel 1" seen '^event alarm unit=0 model=CRS-200 serial=SIM-000000 channel=1 alarm=1 temp=-?[0-9]+ seq=[0-9]+$'
t=$(grep -E '^event alarm unit=0 .*channel=1 alarm=1' "$EV" | head -n 1 | sed 's/.* temp=\(-\{0,1\}[0-9]*\) .*/\1/')
check "the alarm's temperature ($t) is above the new maximum" test "$t" -gt -21000
echo -5000 >"$CLASS/sensor0/temp1_max"
check "alarm cleared on channel 1" seen '^event alarm unit=0 .*channel=1 alarm=0 '
echo -5000 >"$CLASS/sensor0/temp2_min"
check "alarm set on channel 2 (coil below min)" seen '^event alarm unit=0 .*channel=2 alarm=1 '
echo -45000 >"$CLASS/sensor0/temp2_min"
check "alarm cleared on channel 2" seen '^event alarm unit=0 .*channel=2 alarm=0 '
n_uevent_alarm=$(grep -c '^event alarm' "$EV")
check "exactly four alarm events ($n_uevent_alarm)" test "$n_uevent_alarm" -eq 4

echo "== units removed and added at run time"
echo SIM-000001 >"$SIMDRV/del_device"
check "unit-removed for unit 1" seen '^event unit-removed unit=1 model=CRS-210T serial=SIM-000001$'
echo "CRS-200 SPARE-7" >"$SIMDRV/new_device"
check "unit-added for the new unit" seen '^event unit-added unit=[0-9]+ model=CRS-200 serial=SPARE-7$'
pdev=$(basename "$(readlink -f "$CLASS/sensor0/device")")
echo "$pdev" >"$SIMDRV/unbind"
check "unbind: unit-removed for unit 0" seen '^event unit-removed unit=0 model=CRS-200 serial=SIM-000000$'
rmmod coldroom_sim
check "rmmod coldroom_sim: unit-removed for the last unit" seen '^event unit-removed unit=[0-9]+ model=CRS-200 serial=SPARE-7$'

echo "== the family goes with the module"
kill "$listener"
wait "$listener" 2>/dev/null || true
# SPARE-7's request outlives it and holds the module until it ends.
abort_fallbacks
rmmod coldroom
check "family gone after rmmod: the client cannot resolve it" \
	bash -c "$CRTEST events 1 | grep -q 'not found'"
echo "all events seen:"
sed 's/^/  /' "$EV"

finish
