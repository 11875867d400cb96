#!/bin/bash
# coldroom-metrics and the other services on the bus: coldroom-recorder's
# WriteFailing and coldroom-uplink's Connected and Backlog are on the page
# while each runs, and only then. The uplink's backlog grows while its
# broker is away and drains when a real mosquitto comes; a recorder that
# stops answering (SIGSTOP) delays no page beyond its call's timeout and is
# left out of it.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, METRICS,
# RECORDER, UPLINK.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-metrics-peers-test
metrics_pid='' uplink_pid='' broker_pid=''
trap 'kill -CONT $recorder_pid 2>/dev/null; kill $broker_pid $uplink_pid $metrics_pid 2>/dev/null; scratch_cleanup' EXIT

for tool in curl mosquitto python3; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
		{ echo "test_metrics_peers: $tool is missing (make deps)"; exit 1; }
done
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
sys=$tmp/sys
mkdir -p "$sys/class/coldroom" "$tmp/model"
fake_unit "$sys" sensor0 SIM-000001
fake_sample "$sys" sensor0 -18250 3500
start_coldroomd_metrics "$tmp" || { fail "coldroomd and coldroom-metrics did not start"; exit 1; }
printf 'RecordIntervalSec=10\n' >>"$tmp/coldroom.conf"

scrape() {
	curl -s --max-time 30 -o "$tmp/page" -w '%{http_code}' "http://127.0.0.1:$mport/metrics" | grep -qx 200
}
page_has() { scrape && grep -q "$1" "$tmp/page"; }
page_lacks() { scrape && ! grep -q "$1" "$tmp/page"; }
# value NAME: the sample of an unlabelled series on the last page.
value() { awk -v n="$1" '$1 == n { print $2 }' "$tmp/page"; }
backlog_at_least() { scrape && [ "$(value coldroom_uplink_backlog)" -ge "$1" ] 2>/dev/null; }
backlog_is() { scrape && [ "$(value coldroom_uplink_backlog)" = "$1" ]; }

check "without the recorder and the uplink, the page has neither" \
	wait_for 30 page_lacks '^coldroom_recorder_\|^coldroom_uplink_'
check "and the units" grep -q '^coldroom_temperature_celsius{serial="SIM-000001"' "$tmp/page"

run_recorder "$tmp" || { fail "the recorder did not start"; exit 1; }
check "with the recorder: coldroom_recorder_write_failing 0" \
	wait_for 30 page_has '^coldroom_recorder_write_failing 0$'

bport=$(free_port)
run_uplink "$tmp" "$bport" || { fail "the uplink did not start"; exit 1; }
check "with the uplink and no broker: coldroom_uplink_connected 0" \
	wait_for 30 page_has '^coldroom_uplink_connected 0$'
# The recorder closes an interval every 10 s: rows the broker has not had.
check "its backlog grows while the broker is away" wait_for 60 backlog_at_least 1
echo "    (backlog $(value coldroom_uplink_backlog))"
check "the page still passes promtool" bash -c "promtool check metrics <'$tmp/page' >/dev/null"

cat >"$tmp/mosquitto.conf" <<CONF
user $(id -un)
allow_anonymous true
listener $bport 127.0.0.1
log_dest file $tmp/broker.log
CONF
"$MOSQUITTO" -c "$tmp/mosquitto.conf" >"$tmp/broker.stderr" 2>&1 &
broker_pid=$!
# The uplink retries after at most 60 s.
check "with a broker: coldroom_uplink_connected 1" wait_for 90 page_has '^coldroom_uplink_connected 1$'
check "and the backlog drains to 0" wait_for 60 backlog_is 0

kill -STOP "$recorder_pid"
start=$SECONDS
scrape
code=$?
check "a recorder that does not answer: the page is still served" test "$code" -eq 0
check "without the recorder's series" bash -c "! grep -q '^coldroom_recorder_' '$tmp/page'"
check "but with the units and the uplink's" bash -c \
	"grep -q '^coldroom_temperature_celsius{' '$tmp/page' && grep -q '^coldroom_uplink_backlog ' '$tmp/page'"
echo "    (that page took $((SECONDS - start)) s; the recorder's call waits at most 2 s)"
kill -CONT "$recorder_pid"
check "it answers again: back on the page" wait_for 30 page_has '^coldroom_recorder_write_failing 0$'

kill "$uplink_pid"; wait "$uplink_pid" 2>/dev/null; uplink_pid=''
check "the uplink stopped: its series are gone" wait_for 30 page_lacks '^coldroom_uplink_'
kill "$recorder_pid"; wait "$recorder_pid" 2>/dev/null; recorder_pid=''
check "the recorder stopped: its series are gone" wait_for 30 page_lacks '^coldroom_recorder_'

if [ "$failures" -ne 0 ]; then
	echo "--- coldroom-metrics log"; cat "$tmp/metrics.log"
	echo "--- uplink log"; tail -n 20 "$tmp/uplink.log"
	echo "--- recorder log"; tail -n 20 "$tmp/recorder.log"
fi
echo "test_metrics_peers: $failures failure(s)"
[ "$failures" = 0 ]
