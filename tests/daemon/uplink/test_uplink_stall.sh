#!/bin/bash
# coldroom-uplink against a broker that accepts the connection, says
# CONNACK and then never reads (a TCP listener with a small receive
# buffer, in Python): live samples (PublishSamples=yes) of 1,000 units at
# 1 Hz (the native benchmark's feeder, records into coldroomd's
# --records-from FIFO) fill the socket,
# at most SAMPLES_QUEUED_MAX (1000) more wait in libmosquitto's queue and
# the rest are dropped; State says so, and the uplink's memory stays
# bounded while samples keep coming. When the broker reads again, State
# says how many were dropped. Environment (set by the Makefile):
# COLDROOMD, COLDROOMCTL, UPLINK, FEEDER.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-uplink-stall

units=1000
sys=$tmp/sys
mkdir -p "$tmp/model" "$tmp/state"
"$FEEDER" tree "$sys" "$units" || { fail "feeder tree"; exit 1; }
cat >"$tmp/coldroom.conf" <<CONF
ModelFirmwareDir=$tmp/model
CONF
start_private_bus "$tmp" || { echo "test_uplink_stall: no dbus-daemon"; exit 1; }

# The broker that stops reading: CONNACK to the first CONNECT, then
# nothing read until the file "drain" appears, then everything discarded.
python3 - "$tmp" <<'PY' &
import os, socket, sys, time
d = sys.argv[1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
with open(d + "/port.new", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
os.rename(d + "/port.new", d + "/port")
c, _ = srv.accept()
def read_exact(n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            sys.exit(0)
        b += chunk
    return b
first = read_exact(1)
length, shift = 0, 0
while True:
    byte = read_exact(1)[0]
    length |= (byte & 0x7f) << shift
    shift += 7
    if not byte & 0x80:
        break
read_exact(length)
if first[0] >> 4 != 1:
    sys.exit("not a CONNECT")
c.sendall(b"\x20\x02\x00\x00")
open(d + "/connected", "w").close()
while not os.path.exists(d + "/drain"):
    time.sleep(0.1)
while c.recv(65536):
    pass
PY
extra_pids=$!
wait_for 10 test -s "$tmp/port" || { fail "the listener did not start"; exit 1; }
port=$(cat "$tmp/port")

mkfifo "$tmp/records"
"$FEEDER" feed "$tmp/records" "$units" 600 >/dev/null &
extra_pids="$extra_pids $!"
"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" \
	--records-from "$tmp/records" 2>>"$tmp/daemon.log" &
daemon_pid=$!
wait_for 20 ctl list >/dev/null 2>&1 || { fail "coldroomd did not start"; exit 1; }

cat >"$tmp/uplink.conf" <<CONF
Broker=127.0.0.1:$port
Site=plant-1
Host=gw1
PublishSamples=yes
CONF
"$UPLINK" --bus "$addr" --config "$tmp/uplink.conf" --state-dir "$tmp/state" 2>>"$tmp/uplink.log" &
uplink_pid=$!
extra_pids="$extra_pids $uplink_pid"
up_prop() { busctl --address="$addr" get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 org.coldroom.Uplink1 "$1" 2>/dev/null; }
state_has() { up_prop State | grep -qF "$1"; }
check "the uplink connects (CONNACK)" wait_for 30 test -e "$tmp/connected"
check "and says so" wait_for 30 state_has '"connected'

check "State: the broker does not read, live samples dropped" \
	wait_for 60 state_has "connected; the broker does not read: live samples dropped ("
check "and the log says it" grep -q 'the broker does not read: live samples dropped' "$tmp/uplink.log"
# Bounded: samples go on for a while, all of them dropped now.
rss0=$(rss_kb "$uplink_pid")
dropped_at() { sed -n 's/.*live samples dropped (\([0-9]*\) so far.*/\1/p' "$tmp/uplink.log" | tail -n 1; }
first=$(dropped_at)
sleep 10
check "the uplink's resident memory grew by at most 2 MB while dropping" rss_within "$uplink_pid" "$rss0" 2048
check "the uplink is still running" kill -0 "$uplink_pid"

# The broker reads again: the queue drains, and State counts what was lost.
touch "$tmp/drain"
check "State: connected again, with the samples dropped" \
	wait_for 30 state_has "live samples dropped so far (the broker did not read them in time)"
total=$(up_prop State | sed -n 's/.*connected; \([0-9]*\) live samples dropped so far.*/\1/p')
check "more were dropped than when it began ($first, then ${total:-?})" \
	test "${total:-0}" -gt "${first:-0}"

if [ "$failures" -ne 0 ]; then
	echo "State: $(up_prop State)"
	echo "--- the uplink's log"; tail -n 20 "$tmp/uplink.log"
	echo "--- coldroomd's log"; tail -n 10 "$tmp/daemon.log"
fi
echo "test_uplink_stall: $failures failure(s)"
[ "$failures" -eq 0 ]
