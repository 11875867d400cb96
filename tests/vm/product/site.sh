#!/bin/bash
# Guest: the site-wide parts of the installed product, with the real engines
# a site runs. The daemon's .deb is installed with apt, beside the modules
# built for the guest's kernel on the host; then
#   - metrics: the socket listens from the install on, the first scrape
#     starts coldroom-metrics, promtool accepts the page, a real Prometheus
#     server scrapes it and answers a query for a unit's temperature, bad
#     requests get HTTP errors, coldroomd gone is a 503; the recorder's and
#     the uplink's state are on the page; the packaged alert and recording
#     rules (the mixin) load into that server and evaluate without an error;
#   - uplink: the installed coldroom-uplink with its password as a systemd
#     credential, against Mosquitto brokers over TLS with a password file:
#     birth, intervals and retained state as mosquitto_sub sees them, the
#     last will on kill -9, a broker stopped for a minute (every interval
#     once, in order, the backlog historical), a wrong password and an
#     untrusted certificate said in State and systemctl status, and a
#     second broker bridged to the first seeing this host's units;
#   - a plain user's forged signals (AlarmChanged, SettingChanged,
#     Readings, InterfacesAdded, PropertiesChanged, Committed), broadcast
#     and to each client alone: nothing of them in the record, the audit
#     trail, the metrics page or the broker.
#   - the record rewritten as root (one temperature, every later hash and
#     the head in meta recomputed): record verify says intact without the
#     journal and names the rows from the chain heads the recorder anchored
#     in the real journal; the broker's copy of those rows disagrees.
#
# Files from the host (run.sh): /usr/lib/vmtest/packages/*.deb, /usr/lib/vmtest/chain.py,
# /usr/lib/vmtest/modules/*.ko, /usr/lib/vmtest/product-lib.sh, and Prometheus's own binaries
# /usr/lib/vmtest/bin/{prometheus,promtool}.
set -uo pipefail

. /usr/lib/vmtest/product-lib.sh

BIN=/usr/lib/vmtest/bin
METRICS=http://127.0.0.1:9863/metrics

begin

echo "== install with apt"
install_deb_with_modules
check "the metrics socket listens after the install" systemctl is-active --quiet coldroom-metrics.socket
check "and nothing scraped it yet: its service is not running" \
	bash -c '! systemctl is-active --quiet coldroom-metrics.service'

# A short recording interval, as a site may choose, so that rows come soon.
echo RecordIntervalSec=10 >>/etc/coldroom/coldroomd.conf
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

check "the recorder's state is on the page, read as coldroom-metrics' user" wait_for 60 \
	bash -c "curl -sS --max-time 10 '$METRICS' | grep -q '^coldroom_recorder_write_failing 0\$'"

echo "== metrics: a real Prometheus server, with the packaged rules"
# Prometheus refuses to start on rules it cannot load: no promtool run of
# its own (each start of a Go binary costs seconds under emulation).
RULES=/usr/share/coldroom-sensor/mixin/coldroom.rules.yml
check "the packaged dashboard is there" test -s /usr/share/coldroom-sensor/mixin/coldroom-overview.json
mkdir -p /tmp/prom
cat >/tmp/prom/prometheus.yml <<YML
global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files:
  - $RULES
scrape_configs:
  - job_name: coldroom
    static_configs:
      - targets: ['127.0.0.1:9863']
YML
# Not on Prometheus's usual 9090: the guest's Cockpit (cockpit.socket,
# for the Cockpit suite) listens there.
prom_addr=127.0.0.1:19090
"$BIN/prometheus" --config.file=/tmp/prom/prometheus.yml --storage.tsdb.path=/tmp/prom/data \
	--web.listen-address=$prom_addr >/tmp/prom/log 2>&1 &
prom=$!
query() {
	curl -sS --max-time 10 -G "http://$prom_addr/api/v1/query" --data-urlencode "query=$1"
}
answers() { query "$1" | grep -q "$2"; }
check "Prometheus scrapes the target: up is 1" \
	wait_for 120 answers 'up{job="coldroom"}' '"value":\[[0-9.]*,"1"\]'
check "it answers a query for SIM-000002's temperature" \
	wait_for 60 answers 'coldroom_temperature_celsius{serial="SIM-000002",probe="2"}' '"serial":"SIM-000002"'
query 'coldroom_temperature_celsius{serial="SIM-000002",probe="2"}' | head -c 400; echo
n_rules=$(grep -cE '^ *- (alert|record):' "$RULES")
# rules_ok: every rule of the file loaded, and evaluated without an error
# (the guest's python3 is python3-minimal, without json: each rule has one
# "health" in the API's answer).
rules_ok() {
	local health
	health=$(curl -sS --max-time 10 "http://$prom_addr/api/v1/rules" | grep -o '"health":"[a-z]*"')
	[ "$(grep -c '"health":"ok"' <<<"$health")" -eq "$n_rules" ] &&
		[ "$(wc -l <<<"$health")" -eq "$n_rules" ]
}
check "it evaluates the $n_rules packaged rules without an error" wait_for 60 rules_ok
check "a recording rule answers for SIM-000002" wait_for 60 \
	answers 'coldroom:silence_seconds{serial="SIM-000002"}' '"serial":"SIM-000002"'
kill "$prom" 2>/dev/null; wait "$prom" 2>/dev/null

echo "== metrics: coldroomd gone, then back"
systemctl stop coldroomd
code=$(curl -sS --max-time 30 -o /tmp/page4 -w '%{http_code}' "$METRICS")
check "with coldroomd stopped, a scrape is 503 (got $code)" test "$code" = 503
check "saying why" grep -q "not on the bus" /tmp/page4
systemctl start coldroomd
check "with coldroomd back, the units come back" \
	wait_for 60 bash -c "curl -sS --max-time 10 '$METRICS' | grep -q 'serial=\"SIM-000002\"'"

echo "== uplink: brokers"
mq=/etc/mosquitto/site
mkdir -p "$mq/b1" "$mq/b2"
(
	cd "$mq" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=site CA" -keyout ca.key -out ca.pem
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
	openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile san.ext -out broker.pem
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=someone else" \
		-keyout rogue.key -out rogue.pem
) >/tmp/openssl.log 2>&1 || { cat /tmp/openssl.log; die "openssl failed"; }
: >"$mq/passwd"
mosquitto_passwd -b "$mq/passwd" coldroom-vm 'gw pass 1' || fail "mosquitto_passwd"
mosquitto_passwd -b "$mq/passwd" watcher watchpw
mosquitto_passwd -b "$mq/passwd" bridge bridgepw
# The site's broker: TLS only, users from the password file.
cat >"$mq/b1/mosquitto.conf" <<CONF
user root
per_listener_settings false
allow_anonymous false
password_file $mq/passwd
log_dest file $mq/b1/broker.log
listener 8883 127.0.0.1
cafile $mq/ca.pem
certfile $mq/broker.pem
keyfile $mq/broker.key
CONF
# A second site's broker, bridged to the first.
cat >"$mq/b2/mosquitto.conf" <<CONF
user root
allow_anonymous true
log_dest file $mq/b2/broker.log
listener 1884 127.0.0.1
connection site1
address 127.0.0.1:8883
bridge_cafile $mq/ca.pem
remote_username bridge
remote_password bridgepw
topic coldroom/v1/# in 1
CONF
broker_up() {
	mosquitto_sub -h localhost -p 8883 --cafile "$mq/ca.pem" -u watcher -P watchpw \
		-t probe/none -W 2 -E >/dev/null 2>&1
}
start_broker() {
	mosquitto -c "$mq/b1/mosquitto.conf" >>"$mq/b1/stderr" 2>&1 &
	broker=$!
	wait_for 30 broker_up
}
check "the site's broker runs, TLS and passwords" start_broker
mosquitto -c "$mq/b2/mosquitto.conf" >"$mq/b2/stderr" 2>&1 &
bridge=$!
# A consumer: a persistent QoS 1 session, nothing lost across a restart.
sub() { mosquitto_sub -h localhost -p 8883 --cafile "$mq/ca.pem" -u watcher -P watchpw "$@"; }
sub -i watcher-1 -c -q 1 -t 'coldroom/v1/#' -v >/tmp/sub.log 2>/tmp/sub.err &
check "a consumer subscribed" wait_for 30 grep -q watcher-1 "$mq/b1/broker.log"
check "the bridged broker runs" wait_for 30 \
	mosquitto_sub -h 127.0.0.1 -p 1884 -t probe/none -W 2 -E
mosquitto_sub -h 127.0.0.1 -p 1884 -q 1 -t 'coldroom/v1/#' -v >/tmp/bridge-sub.log 2>&1 &

echo "== uplink: configured as DEPLOYMENT.md says"
check "installed, enabled, and idle until configured" bash -c \
	"systemctl is-enabled --quiet coldroom-uplink && ! systemctl is-failed --quiet coldroom-uplink"
install -m 0644 "$mq/ca.pem" /etc/coldroom/mqtt-ca.pem
install -m 0600 /dev/null /etc/coldroom/mqtt-password
printf '%s\n' 'gw pass 1' >/etc/coldroom/mqtt-password
mkdir -p /etc/systemd/system/coldroom-uplink.service.d
printf '[Service]\nLoadCredential=mqtt-password:/etc/coldroom/mqtt-password\n' \
	>/etc/systemd/system/coldroom-uplink.service.d/credentials.conf
cat >>/etc/coldroom/uplink.conf <<'CONF'
Broker=localhost:8883
Site=plant-1
Username=coldroom-vm
CAFile=/etc/coldroom/mqtt-ca.pem
KeepaliveSec=5
CONF
systemctl daemon-reload
systemctl restart coldroom-uplink || fail "systemctl restart coldroom-uplink"
up_prop() { busctl get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 org.coldroom.Uplink1 "$1" 2>/dev/null; }
state_is() { up_prop State | grep -qF "$1"; }
# Between retries the STATUS= line says "connecting": waits ask again.
status_has() { systemctl show -P StatusText coldroom-uplink | grep -qF "$1"; }
check "connected: State on the system bus" wait_for 60 state_is connected
check "systemctl status says so" status_has "connected to localhost:8883 as plant-1/coldroom-vm"
check "and coldroom-metrics serves it connected" wait_for 60 \
	bash -c "curl -sS --max-time 10 '$METRICS' | grep -q '^coldroom_uplink_connected 1\$'"
check "a plain user reads the State" runuser -u nobody -- busctl get-property \
	org.coldroom.Uplink1 /org/coldroom/Uplink1 org.coldroom.Uplink1 State
check "it runs as coldroom-uplink, with no capability" bash -c \
	"[ \"\$(systemctl show -P User coldroom-uplink)\" = coldroom-uplink ] &&
	 [ -z \"\$(systemctl show -p CapabilityBoundingSet --value coldroom-uplink)\" ]"
base=coldroom/v1/plant-1/coldroom-vm
check "birth: the host is online" wait_for 30 grep -q "^$base/status {.*\"state\":\"online\"" /tmp/sub.log
check "an interval of each unit arrives" wait_for 90 bash -c \
	"for s in SIM-000000 SIM-000001 SIM-000002; do grep -q \"^$base/unit/\$s/interval {.*\\\"serial\\\":\\\"\$s\\\"\" /tmp/sub.log || exit 1; done"
# What was recorded before the uplink connected comes first, historical;
# a live interval follows within one recording interval.
check "with the record's seq, the interval's times, and live" wait_for 60 \
	grep -q "^$base/unit/SIM-000001/interval {.*\"seq\":[0-9]*,.*\"start_us\":[0-9]*,.*\"historical\":false" /tmp/sub.log
retained=$(sub -t "$base/unit/SIM-000001/state" -C 1 -W 10 -F '%r %p')
check "the unit's state is retained" bash -c "grep -q '^1 .*\"serial\":\"SIM-000001\"' <<<'$retained'"
check "the bridged broker sees this host's units" wait_for 60 \
	grep -q "^$base/unit/SIM-000002/interval " /tmp/bridge-sub.log

# The record's rows as the consumer got them, dropping repeats by seq:
# "ok" when in order, none missing, the outage's all there and historical,
# those recorded after it live.
rows_verdict() { # rows_verdict BEFORE DOWN_HEAD LIVE_FROM
	grep -E "^$base/(unit/[^ ]*/interval|gap) " /tmp/sub.log |
	sed -E 's/^[^ ]* .*"seq":([0-9]+),.*"historical":(true|false).*/\1 \2/' |
	awk -v before="$1" -v down="$2" -v live="$3" '
		!($1 in seen) { seen[$1] = $2; order[++n] = $1 }
		END {
			if (!n) { print "no rows"; exit }
			lo = hi = order[1]
			for (i = 1; i <= n; i++) {
				if (i > 1 && order[i] < order[i - 1]) bad = bad " out of order at " order[i] ";"
				if (order[i] < lo) lo = order[i]
				if (order[i] > hi) hi = order[i]
			}
			for (s = lo; s <= hi; s++) if (!(s in seen)) bad = bad " missing " s ";"
			for (s = before + 1; s <= down; s++) {
				if (!(s in seen)) bad = bad " outage row " s " never came;"
				else if (seen[s] != "true") bad = bad " " s " not historical;"
			}
			for (s in seen) if (s + 0 > live + 0 && seen[s] == "true") bad = bad " " s " live but historical;"
			print bad ? bad : "ok: rows " lo ".." hi
		}'
}
rows_ok() { [[ "$(rows_verdict "$@")" == ok:* ]]; }
record_head() { busctl call org.coldroom.Recorder1 /org/coldroom/Recorder1 org.coldroom.Recorder1 \
	GetRecordsAfter tu 0 1 | cut -d' ' -f2; }
backlog_empty() { up_prop Backlog | grep -qx 't 0'; }
backlog_waiting() { up_prop Backlog | grep -qx 't [1-9][0-9]*'; }
head_past() { [ "$(record_head)" -gt "$1" ] 2>/dev/null; }

echo "== uplink: the broker stopped for a minute"
check "nothing waiting" wait_for 60 backlog_empty
before=$(record_head)
kill "$broker"; wait "$broker" 2>/dev/null
check "the broker gone: State says it is retrying" wait_for 60 state_is retrying
check "and systemctl status" wait_for 60 status_has retrying
sleep 60
check "intervals were recorded meanwhile" head_past $((before + 6))
check "and wait in the Backlog ($(up_prop Backlog))" backlog_waiting
down_head=$(record_head)
check "the broker back" start_broker
check "connected again" wait_for 90 state_is connected
check "the backlog sent" wait_for 120 backlog_empty
live_from=$(record_head)
check "and the live stream goes on" wait_for 60 head_past "$live_from"
sleep 5
check "every interval once, in order, the minute's historical, the live not ($(rows_verdict "$before" "$down_head" "$live_from"))" \
	rows_ok "$before" "$down_head" "$live_from"

echo "== uplink: kill -9"
systemctl kill -s KILL coldroom-uplink
check "the broker publishes the host's last will: offline" wait_for 60 bash -c \
	"grep '^$base/status ' /tmp/sub.log | tail -n 1 | grep -q '\"state\":\"offline\"'"
retained=$(sub -t "$base/status" -C 1 -W 10 -F '%r %p')
check "retained, for consumers that come later" bash -c "grep -q '^1 .*offline' <<<'$retained'"
check "systemd restarts the uplink, online again" wait_for 90 bash -c \
	"grep '^$base/status ' /tmp/sub.log | tail -n 1 | grep -q '\"state\":\"online\"'"

echo "== uplink: clear errors"
printf '%s\n' 'not the password' >/etc/coldroom/mqtt-password
systemctl restart coldroom-uplink
check "a wrong password: State says not authorised" wait_for 60 state_is "not authori"
check "systemctl status says so" wait_for 60 status_has "not authori"
check "the journal too" wait_for 10 bash -c \
	"journalctl -b -u coldroom-uplink --no-pager | grep -q 'refused by the broker: .*not authori'"
# The STATUS= line moves on to "connecting" at each retry: the journal keeps it.
check "and the service is not failed: it retries" wait_for 60 bash -c \
	"systemctl is-active --quiet coldroom-uplink &&
	 journalctl -b -u coldroom-uplink --no-pager | grep -q 'not authori.*; retrying in'"
printf '%s\n' 'gw pass 1' >/etc/coldroom/mqtt-password
install -m 0644 "$mq/rogue.pem" /etc/coldroom/mqtt-ca.pem
systemctl restart coldroom-uplink
check "an untrusted certificate: State says the TLS verification failed" \
	wait_for 60 state_is "TLS: certificate verify failed"
check "systemctl status says so" wait_for 60 status_has "certificate verify failed"
install -m 0644 "$mq/ca.pem" /etc/coldroom/mqtt-ca.pem
systemctl restart coldroom-uplink
check "the right CA again: connected" wait_for 60 state_is connected

echo "== a plain user forges coldroomd's and the recorder's signals"
# Debian's stock bus policy lets every user send any signal, broadcast or
# to one connection's unique name; the clients take a signal only from
# the name's current owner, never one addressed to them alone.
useradd -M -s /usr/sbin/nologin forger || fail "useradd forger"
DB=/var/lib/coldroom/record.db
bus_driver() { busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus "$@"; }
owner_of() { bus_driver GetNameOwner s "$1" | sed -n 's/^s "\(.*\)"$/\1/p'; }
unique_of_pid() {
	local n
	for n in $(bus_driver ListNames | grep -o '":[0-9.]*"' | tr -d '"'); do
		[ "$(bus_driver GetConnectionUnixProcessID s "$n" 2>/dev/null)" = "u $1" ] &&
			{ echo "$n"; return 0; }
	done
	return 1
}
curl -sS --max-time 30 -o /dev/null "$METRICS"	# coldroom-metrics runs
recorder_name=$(owner_of org.coldroom.Recorder1)
uplink_name=$(owner_of org.coldroom.Uplink1)
metrics_name=$(unique_of_pid "$(systemctl show -P MainPID coldroom-metrics.service)")
check "the clients' unique names ($recorder_name $uplink_name $metrics_name)" \
	test -n "$recorder_name" -a -n "$uplink_name" -a -n "$metrics_name"
audit_max=$(sqlite3 -readonly "$DB" "SELECT max(seq) FROM audit")
now=$(($(date +%s) * 1000000))
S=/org/coldroom/Sensors1 M=org.coldroom.Sensors1.Manager u1=$(sensor_of SIM-000001)
forge_all() { # forge_all [--destination=NAME]
	local f=(runuser -u forger -- busctl --system emit "$@" --)
	"${f[@]}" $S $M AlarmChanged tsssuuuitusss 4242 acknowledged SIM-000001 "$u1" 1 2 1 \
		77777 "$now" 0 root "forged: all is well" temperature &&
	"${f[@]}" $S $M SettingChanged osssssus "$S/unit/$u1" "$u1" SIM-000001 \
		temp1_max -15000 40000 0 root &&
	"${f[@]}" $S $M Readings auaiaiayayayatat 2 "${u1#sensor}" 7 2 77777 77777 2 -77777 -77777 \
		2 1 1 2 1 1 2 3 3 2 999999 999999 2 "$now" "$now" &&
	"${f[@]}" $S org.freedesktop.DBus.ObjectManager InterfacesAdded 'oa{sa{sv}}' \
		$S/unit/sensor1048575 1 org.coldroom.Sensors1.Unit 3 Number u 1048575 \
		Serial s FORGED-1 Label s forged &&
	"${f[@]}" "$S/unit/$u1" org.freedesktop.DBus.Properties PropertiesChanged 'sa{sv}as' \
		org.coldroom.Sensors1.Unit 2 Label s forged Temp1Max i 40000 0 &&
	"${f[@]}" /org/coldroom/Recorder1 org.coldroom.Recorder1 Committed tt 999999 999999
}
check "forger sends them broadcast" forge_all
for dest in "$recorder_name" "$uplink_name" "$metrics_name"; do
	check "and to $dest alone" forge_all --destination="$dest"
done
# A real change after them: the recorder has taken all that came before.
coldroomctl set "$(sensor_of SIM-000002)" label=After >/dev/null || fail "coldroomctl set label=After"
check "the recorder took the real change" wait_for 30 bash -c \
	"sqlite3 -readonly $DB \"SELECT 1 FROM audit WHERE event = 'setting-changed' AND new_value = 'After'\" | grep -q 1"
new_audit=$(sqlite3 -readonly "$DB" "SELECT event || ' ' || serial || ' ' || coalesce(what, '') ||
	' ' || coalesce(new_value, '') FROM audit WHERE seq > $audit_max")
check "the audit trail has the real change only ($new_audit)" \
	test "$new_audit" = "setting-changed SIM-000002 label After"
check "an interval closes after them" wait_for 60 bash -c \
	"[ \"\$(sqlite3 -readonly $DB 'SELECT count(*) FROM record WHERE start_us > $now')\" -ge 1 ]"
check "no forged reading or unit in the record" test "$(sqlite3 -readonly "$DB" \
	"SELECT count(*) FROM record WHERE max >= 77777 OR min <= -77777 OR serial = 'FORGED-1'")" = 0
check "coldroomctl record verify: intact" coldroomctl record verify
code=$(curl -sS --max-time 30 -o /tmp/page-forged -w '%{http_code}' "$METRICS")
check "the metrics page: served ($code), nothing forged" bash -c \
	"[ '$code' = 200 ] && grep -q 'label=\"After\"' /tmp/page-forged &&
	 ! grep -qE 'forged|FORGED|77\.777|sensor1048575' /tmp/page-forged &&
	 ! grep -qE '^coldroom_temperature_max_celsius\{.*SIM-000001.*probe=\"1\"\} 40$' /tmp/page-forged"
check "the broker: nothing forged" bash -c "! grep -qE '77777|FORGED|forged' /tmp/sub.log"
check "the uplink's Backlog is no forged head ($(up_prop Backlog))" \
	bash -c "[ \"\$(busctl get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 org.coldroom.Uplink1 Backlog | cut -d' ' -f2)\" -lt 1000 ]"
check "a refusal is not logged above debug: no journal flood" bash -c \
	"! journalctl -b -u coldroom-recorder --no-pager -p info | grep -q 'dropped signal'"
userdel forger

echo "== the record rewritten as root: the journal and the broker catch it"
db=/var/lib/coldroom/record.db
anchor_id=4e03b7dfd7114b3b95e26ce8dfdda6ad
check "the recorder anchors its heads in the journal, as user coldroom-recorder" bash -c \
	"journalctl -b MESSAGE_ID=$anchor_id COLDROOM_DATABASE=$db _UID=\$(id -u coldroom-recorder) \
	 -o export | grep -q '^COLDROOM_RECORD_HASH=[0-9a-f]\{64\}\$'"
out=$(coldroomctl record verify); rc=$?
check "record verify: intact, and the journal's anchors agree ($out)" bash -c \
	"[ $rc = 0 ] && grep -q 'journal: [0-9]* anchors from .* agree' <<<'$out'"
check "the broker has a row with its hash" wait_for 60 \
	grep -q "^$base/unit/SIM-000001/interval {.*\"samples\":[1-9].*\"hash\":\"[0-9a-f]*\"" /tmp/sub.log
kill "$bridge" "$broker" 2>/dev/null
edit=$(grep "^$base/unit/SIM-000001/interval {.*\"samples\":[1-9]" /tmp/sub.log | tail -n 1 |
	sed 's/.*"seq":\([0-9]*\),.*/\1/')
broker_hash=$(grep "^$base/unit/SIM-000001/interval {.*\"seq\":$edit," /tmp/sub.log | tail -n 1 |
	sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')
check "the broker's copy of row $edit is the database's" test \
	"$broker_hash" = "$(sqlite3 "$db" "SELECT lower(hex(hash)) FROM record WHERE seq = $edit")"
systemctl stop coldroom-uplink coldroom-recorder
out=$(python3 /usr/lib/vmtest/chain.py rewrite "$db" "$edit" max 40000 2>&1); rc=$?
check "root rewrites row $edit and every hash after it, and meta ($out)" test "$rc" = 0
out=$(coldroomctl record verify --no-journal); rc=$?
check "the file alone says intact ($out)" bash -c "[ $rc = 0 ] && grep -q 'intact' <<<'$out'"
out=$(coldroomctl record verify); rc=$?
range=$(grep -o 'record rows [0-9]*\.\.[0-9]*' <<<"$out" | grep -o '[0-9]*\.\.[0-9]*')
check "with the journal: not intact, exit 7 ($out)" bash -c \
	"[ $rc = 7 ] && grep -q 'journal: NOT INTACT' <<<'$out'"
check "and it names the rows: $edit is in ${range:-none}" bash -c \
	"[ '${range%%..*}' -le $edit ] 2>/dev/null && [ $edit -le '${range##*..}' ]"
check "the broker's copy disagrees with the database" test \
	"$broker_hash" != "$(sqlite3 "$db" "SELECT lower(hex(hash)) FROM record WHERE seq = $edit")"

echo "== apt purge"
modprobe -r coldroom_sim || fail "modprobe -r coldroom_sim"
remove_deb_with_modules
check "the metrics socket is gone" bash -c '! systemctl cat coldroom-metrics.socket >/dev/null 2>&1'
check "nothing listens on 9863 any more" bash -c '! curl -s --max-time 5 -o /dev/null http://127.0.0.1:9863/'
check "the uplink is gone, its cursors with it" bash -c \
	'! systemctl cat coldroom-uplink.service >/dev/null 2>&1 && [ ! -e /var/lib/coldroom-uplink ]'

finish
