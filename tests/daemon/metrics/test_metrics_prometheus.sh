#!/bin/bash
# A real Prometheus server scrapes coldroom-metrics (in front of coldroomd
# on a fake sysfs tree and a private bus) and answers a query with a
# unit's temperature, at the sample's own time.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, METRICS.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-prometheus-test
metrics_pid= prometheus_pid=
trap 'kill $prometheus_pid $metrics_pid 2>/dev/null; scratch_cleanup' EXIT

for tool in prometheus curl python3; do
	command -v "$tool" >/dev/null || { echo "test_metrics_prometheus: $tool is missing (make deps)"; exit 1; }
done
sys=$tmp/sys
mkdir -p "$sys/class/coldroom" "$tmp/model"
fake_unit "$sys" sensor0 SIM-000001
fake_sample "$sys" sensor0 -18250 3500
start_coldroomd_metrics "$tmp" || { fail "coldroomd and coldroom-metrics did not start"; exit 1; }
start_prometheus "$tmp"

# query EXPR: the value of the first result of an instant query, or nothing.
query() {
	curl -s --max-time 10 -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
query_is() { [ "$(query "$1")" = "$2" ]; }

check "Prometheus scrapes it: up is 1" wait_for 90 query_is 'up{job="coldroom"}' 1
check "and answers the unit's temperature" \
	wait_for 30 query_is 'coldroom_temperature_celsius{serial="SIM-000001",probe="1"}' -18.25
check "the other probe's too" query_is 'coldroom_temperature_celsius{serial="SIM-000001",probe="2"}' 3.5
sample_ms=$(curl -sS --max-time 10 "http://127.0.0.1:$mport/metrics" |
	awk '/^coldroom_temperature_celsius\{serial="SIM-000001".*probe="1"/ { print $NF }')
stored=$(query 'timestamp(coldroom_temperature_celsius{serial="SIM-000001",probe="1"})')
check "at the sample's time ($stored s, $sample_ms ms)" \
	python3 -c 'import sys; sys.exit(round(float(sys.argv[1]) * 1000) != int(sys.argv[2]))' "$stored" "$sample_ms"
check "the thresholds" query_is 'coldroom_temperature_max_celsius{serial="SIM-000001",probe="1"}' 8
check "and the firmware state" query_is 'coldroom_firmware_state{serial="SIM-000001",state="ready"}' 1
target_health() {
	curl -sS --max-time 10 "http://127.0.0.1:$pport/api/v1/targets" | python3 -c 'import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"][0]
print(t["health"] + ":" + t["lastError"])'
}
out=$(target_health)
check "the target is healthy, without a scrape error ($out)" test "$out" = "up:"

if [ "$failures" -ne 0 ]; then
	echo "--- prometheus log"; tail -n 20 "$tmp/prometheus.log"
	echo "--- coldroom-metrics log"; cat "$tmp/metrics.log"
fi
echo "test_metrics_prometheus: $failures failure(s)"
[ "$failures" = 0 ]
