#!/bin/bash
# The mixin against a real coldroom-metrics (in front of coldroomd on a fake
# sysfs tree and a private bus, with coldroom-recorder and a coldroom-uplink
# whose broker is away) and a real Prometheus server:
#   - every metric name the rules and the dashboard use is on the scraped
#     page (and a misspelt one is caught);
#   - Prometheus loads the rules and evaluates every one without an error,
#     and a recording rule has the value its series give;
#   - every query of the dashboard, its variables set to "all", runs and
#     answers at least one series.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, METRICS,
# RECORDER, UPLINK.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/daemon/lib.sh"
scratch_dir coldroom-mixin-test
metrics_pid='' prometheus_pid='' uplink_pid=''
trap 'kill $prometheus_pid $uplink_pid $metrics_pid 2>/dev/null; scratch_cleanup' EXIT
rules=$top/mixin/coldroom.rules.yml
dashboard=$top/mixin/coldroom-overview.json

for tool in prometheus curl python3; do
	command -v "$tool" >/dev/null || { echo "test_scrape: $tool is missing (make deps)"; exit 1; }
done
sys=$tmp/sys
mkdir -p "$sys/class/coldroom" "$tmp/model"
fake_unit "$sys" sensor0 SIM-000001
fake_unit "$sys" sensor1 SIM-000002
fake_sample "$sys" sensor0 -18250 3500
fake_sample "$sys" sensor1 -20000 -21000
start_coldroomd_metrics "$tmp" || { fail "coldroomd and coldroom-metrics did not start"; exit 1; }
run_recorder "$tmp" || { fail "the recorder did not start"; exit 1; }
run_uplink "$tmp" "$(free_port)" || { fail "the uplink did not start"; exit 1; }
scraped() {
	curl -s --max-time 10 -o "$tmp/page" -w '%{http_code}' "http://127.0.0.1:$mport/metrics" |
		grep -qx 200 && grep -q '^coldroom_last_sample_timestamp_seconds{' "$tmp/page" &&
		grep -q '^coldroom_recorder_write_failing ' "$tmp/page" &&
		grep -q '^coldroom_uplink_backlog ' "$tmp/page"
}
check "coldroom-metrics serves both units, the recorder's and the uplink's state" wait_for 30 scraped

echo "== metric names"
python3 "$here/mixin_queries.py" names "$tmp/page" "$rules" "$dashboard" >"$tmp/names.out" 2>&1
rc=$?
cat "$tmp/names.out"
check "every name the rules and the dashboard use is on the page" test "$rc" -eq 0
# The check itself: a misspelt name in a panel is caught and named.
sed 's/coldroom_alarm{/coldroom_alarms{/' "$dashboard" >"$tmp/misspelt.json"
out=$(python3 "$here/mixin_queries.py" names "$tmp/page" "$rules" "$tmp/misspelt.json" 2>&1)
check "a misspelt name is caught" test $? -eq 1
check "and named" grep -q 'coldroom_alarms is not on the scraped page' <<<"$out"

echo "== a real Prometheus with the rules"
start_prometheus "$tmp" "$rules"
api() { curl -s --max-time 10 -G "http://127.0.0.1:$pport/api/v1/$1" "${@:2}"; }
# query EXPR: the number of series an instant query answers, or "error: ..."
query_count() {
	api query --data-urlencode "query=$1" | python3 -c 'import json, sys
r = json.load(sys.stdin)
if r["status"] != "success":
    print("error: " + r.get("error", "?"))
else:
    d = r["data"]
    print(len(d["result"]) if d["resultType"] in ("vector", "matrix") else 1)' 2>/dev/null
}
query_value() {
	api query --data-urlencode "query=$1" | python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "")' 2>/dev/null
}
query_is() { [ "$(query_value "$1")" = "$2" ]; }
check "Prometheus scrapes coldroom-metrics: up is 1" wait_for 90 query_is 'up{job="coldroom"}' 1

# rules_state: "GROUPS RULES BAD EVALUATED" of the rules API.
rules_state() {
	api rules | python3 -c 'import json, sys
g = json.load(sys.stdin)["data"]["groups"]
rules = [r for x in g for r in x["rules"]]
bad = [r["name"] + ": " + r.get("lastError", "") for r in rules if r["health"] == "err"]
print(len(g), len(rules), len(bad), sum(r["health"] == "ok" for r in rules))
for b in bad:
    print(b, file=sys.stderr)'
}
want_rules=$(python3 -c 'import sys, yaml
print(sum(len(g["rules"]) for g in yaml.safe_load(open(sys.argv[1]))["groups"]))' "$rules")
all_rules_ok() { [ "$(rules_state 2>>"$tmp/rule-errors")" = "2 $want_rules 0 $want_rules" ]; }
check "it loads both groups, $want_rules rules, and evaluates each without an error" \
	wait_for 60 all_rules_ok
[ -s "$tmp/rule-errors" ] && sort -u "$tmp/rule-errors"
# -18.25 in -25..8: 6.75 above the bottom is the nearer end.
check "coldroom:band_margin_celsius has the value its series give" wait_for 30 query_is \
	'coldroom:band_margin_celsius{serial="SIM-000001",probe="1"}' 6.75
check "job:coldroom_alarm:sum counts no probe out of band" \
	wait_for 30 query_is 'job:coldroom_alarm:sum{job="coldroom"}' 0
check "job_state:coldroom_firmware_state:sum counts both units ready" \
	wait_for 30 query_is 'job_state:coldroom_firmware_state:sum{job="coldroom",state="ready"}' 2

echo "== the dashboard's queries"
# A rate needs two scrapes in its range.
check "two scrapes are in" wait_for 30 query_is \
	'count_over_time(up{job="coldroom"}[1m]) >= bool 2' 1
is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
n=0
while read -r json; do
	expr=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]))' "$json")
	got=$(query_count "$expr")
	check "answers ($got series): $expr" is_count "$got"
	n=$((n + 1))
done < <(python3 "$here/mixin_queries.py" exprs "$dashboard")
check "the dashboard has queries ($n)" test "$n" -ge 20

if [ "$failures" -ne 0 ]; then
	echo "--- prometheus log"; tail -n 20 "$tmp/prometheus.log"
	echo "--- coldroom-metrics log"; cat "$tmp/metrics.log"
fi
echo "test_scrape: $failures failure(s)"
[ "$failures" = 0 ]
