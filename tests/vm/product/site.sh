#!/bin/bash
# Guest: the site-wide parts of the installed product, with the real engines
# a site runs. The .debs are installed with apt; then
#   - metrics: the socket listens from the install on, the first scrape
#     starts coldroom-metrics, promtool accepts the page, a real Prometheus
#     server scrapes it and answers a query for a unit's temperature, bad
#     requests get HTTP errors, coldroomd gone is a 503;
#
# Files from the host (run.sh): /usr/lib/vmtest/packages/*.deb,
# /usr/lib/vmtest/product-lib.sh, and Prometheus's own binaries
# /usr/lib/vmtest/bin/{prometheus,promtool}.
set -uo pipefail

. /usr/lib/vmtest/product-lib.sh

BIN=/usr/lib/vmtest/bin
METRICS=http://127.0.0.1:9863/metrics

begin

echo "== install with apt"
install_debs
check "the metrics socket listens after the install" systemctl is-active --quiet coldroom-metrics.socket
check "and nothing scraped it yet: its service is not running" \
	bash -c '! systemctl is-active --quiet coldroom-metrics.service'

modprobe coldroom_sim units=3 door_interval_s=0 || die "modprobe coldroom_sim failed"
check "udev started coldroomd" wait_for 60 systemctl is-active --quiet coldroomd
check "all three units have firmware" wait_for 90 all_ready 3
check "every unit has a first sample" wait_for 30 bash -c \
	"for s in $CLASS/sensor*; do cat \$s/temp1 >/dev/null 2>&1 || exit 1; done"

echo "== metrics: a scrape"
scrape() { curl -sS --max-time 30 -o "$1" -w '%{http_code}' "$METRICS"; }
code=$(scrape /tmp/page1)
check "the first scrape answers 200 (got $code)" test "$code" = 200
if [ "$code" != 200 ]; then
	systemctl status --no-pager coldroom-metrics.socket coldroom-metrics.service
	journalctl -b --no-pager -n 40 -u coldroom-metrics.service
fi
check "the scrape started coldroom-metrics.service" systemctl is-active --quiet coldroom-metrics.service
pid=$(systemctl show -P MainPID coldroom-metrics.service)
check "it runs as coldroom-metrics, with no capability" bash -c \
	"[ \"\$(stat -c %U /proc/$pid)\" = coldroom-metrics ] &&
	 [ -z \"\$(systemctl show -p CapabilityBoundingSet --value coldroom-metrics.service)\" ]"
check "promtool check metrics accepts the page" bash -c "$BIN/promtool check metrics </tmp/page1"
for serial in SIM-000000 SIM-000001 SIM-000002; do
	check "$serial's temperature is on the page" \
		grep -q "^coldroom_temperature_celsius{.*serial=\"$serial\".*probe=\"1\"" /tmp/page1
done
# The page's value is a sample the kernel reported: within the simulator's
# range, and the sample counter grows from one scrape to the next.
t=$(sed -n 's/^coldroom_temperature_celsius{[^}]*serial="SIM-000001"[^}]*probe="1"[^}]*} \([^ ]*\).*/\1/p' /tmp/page1)
check "SIM-000001's temp1 is a number in degrees ($t)" \
	bash -c "awk -v t='$t' 'BEGIN { exit !(t ~ /^-?[0-9.]+$/ && t > -100 && t < 100) }'"
samples() { sed -n "s/^coldroom_samples_total{[^}]*serial=\"SIM-000001\"[^}]*} \([0-9]*\).*/\1/p" "$1"; }
sleep 3
scrape /tmp/page2 >/dev/null
s1=$(samples /tmp/page1) s2=$(samples /tmp/page2)
check "the sample counter grows between scrapes ($s1 -> $s2)" test "${s2:-0}" -gt "${s1:-0}"

echo "== metrics: bad requests change nothing"
code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -X POST --data x "$METRICS")
check "POST is refused (got $code, want 405)" test "$code" = 405
code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' http://127.0.0.1:9863/etc/passwd)
check "another path is not found (got $code, want 404)" test "$code" = 404
code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 65536 /dev/zero | tr '\0' a)" "$METRICS")
check "a 64 KiB header is refused (got $code)" bash -c "[ '$code' = 431 ] || [ '$code' = 400 ] || [ '$code' = 413 ]"
code=$(scrape /tmp/page3)
check "the next scrape is still served (got $code)" test "$code" = 200
check "and still passes promtool" bash -c "$BIN/promtool check metrics </tmp/page3"

echo "== metrics: a real Prometheus server"
mkdir -p /tmp/prom
cat >/tmp/prom/prometheus.yml <<'YML'
global:
  scrape_interval: 2s
scrape_configs:
  - job_name: coldroom
    static_configs:
      - targets: ['127.0.0.1:9863']
YML
"$BIN/prometheus" --config.file=/tmp/prom/prometheus.yml --storage.tsdb.path=/tmp/prom/data \
	--web.listen-address=127.0.0.1:9090 >/tmp/prom/log 2>&1 &
prom=$!
query() {
	curl -sS --max-time 10 -G http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1"
}
answers() { query "$1" | grep -q "$2"; }
check "Prometheus scrapes the target: up is 1" \
	wait_for 120 answers 'up{job="coldroom"}' '"value":\[[0-9.]*,"1"\]'
check "it answers a query for SIM-000002's temperature" \
	wait_for 60 answers 'coldroom_temperature_celsius{serial="SIM-000002",probe="2"}' '"serial":"SIM-000002"'
query 'coldroom_temperature_celsius{serial="SIM-000002",probe="2"}' | head -c 400; echo
kill "$prom" 2>/dev/null; wait "$prom" 2>/dev/null

echo "== metrics: coldroomd gone, then back"
systemctl stop coldroomd
code=$(curl -sS --max-time 30 -o /tmp/page4 -w '%{http_code}' "$METRICS")
check "with coldroomd stopped, a scrape is 503 (got $code)" test "$code" = 503
check "saying why" grep -q "not on the bus" /tmp/page4
systemctl start coldroomd
check "with coldroomd back, the units come back" \
	wait_for 60 bash -c "curl -sS --max-time 10 '$METRICS' | grep -q 'serial=\"SIM-000002\"'"

echo "== apt purge"
modprobe -r coldroom_sim || fail "modprobe -r coldroom_sim"
DEBIAN_FRONTEND=noninteractive apt-get purge -y coldroom-sensor coldroom-sensor-dkms \
	>/tmp/apt-purge.log 2>&1 || { cat /tmp/apt-purge.log; fail "apt-get purge failed"; }
check "the metrics socket is gone" bash -c '! systemctl cat coldroom-metrics.socket >/dev/null 2>&1'
check "nothing listens on 9863 any more" bash -c '! curl -s --max-time 5 -o /dev/null http://127.0.0.1:9863/'

finish
