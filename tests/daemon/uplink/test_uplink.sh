#!/bin/bash
# coldroom-uplink against real mosquitto brokers: coldroomd on a fake
# sysfs tree and coldroom-recorder (10 s intervals) behind a private bus,
# a broker with TLS (a CA and a server certificate made here with
# openssl) and a password file, and a second broker bridged to it.
# mosquitto_sub checks the birth, the interval and event topics and
# payloads, the retained state, store-and-forward across a broker outage
# (every row once, in order, the backlog marked historical), the last
# will on kill -9, and the clear errors of a wrong password and of an
# untrusted certificate. The broker's copy holds the chain: each row's and
# entry's hash follows from its payload and the one before it (checked as
# MQTT.md says a consumer does), and after a consistent rewrite of the
# database the broker's copy disagrees with it.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, RECORDER, UPLINK.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-uplink-test
for tool in mosquitto mosquitto_sub mosquitto_passwd openssl python3; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
		{ echo "test_uplink: $tool is missing"; exit 1; }
done
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
uplink_pid= broker_pid= bridge_pid= sub_pid= bridge_sub_pid=
# Everything this test starts, stopped however it ends.
cleanup_uplink() {
	local p
	for p in $uplink_pid $sub_pid $bridge_sub_pid $bridge_pid $broker_pid; do kill -9 "$p" 2>/dev/null; done
	scratch_cleanup
}
trap cleanup_uplink EXIT

two_units test_uplink state b1 b2
q() { sqlite3 -batch -noheader "$db" "$1"; }
q_ge() { [ "$(q "$1")" -ge "$2" ] 2>/dev/null; }

# --- certificates: a CA, the broker's certificate, and a CA nobody uses -------
(
	cd "$tmp" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=coldroom test CA" \
		-keyout ca.key -out ca.pem
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile san.ext -out server.pem
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=someone else" \
		-keyout rogue.key -out rogue.pem
	# The same key and CA, but valid only on 1 January 2020.
	mkdir expired && touch expired/index.txt && echo 01 >expired/serial
	printf '[ca]\ndefault_ca = t\n[t]\ndatabase = expired/index.txt\nnew_certs_dir = expired\nserial = expired/serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' >expired/ca.cnf
	openssl ca -batch -config expired/ca.cnf -cert ca.pem -keyfile ca.key -in server.csr \
		-startdate 20200101000000Z -enddate 20200102000000Z -extfile san.ext -notext \
		-out expired.pem
) >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log"; echo "test_uplink: openssl failed"; exit 1; }

# The broker: TLS only, users from a password file, sessions kept across a restart.
: >"$tmp/passwd"
mosquitto_passwd -b "$tmp/passwd" uplink "s3cret pass" || exit 1
mosquitto_passwd -b "$tmp/passwd" watcher watchpw || exit 1
mosquitto_passwd -b "$tmp/passwd" bridge bridgepw || exit 1
port=$(free_port)
# "user": a broker started as root would become "mosquitto", a stranger to $tmp.
cat >"$tmp/b1/mosquitto.conf" <<CONF
user $(id -un)
per_listener_settings false
allow_anonymous false
password_file $tmp/passwd
persistence true
persistence_location $tmp/b1/
log_dest file $tmp/b1/broker.log
listener $port 127.0.0.1
cafile $tmp/ca.pem
certfile $tmp/server.pem
keyfile $tmp/server.key
CONF
start_broker() {
	"$MOSQUITTO" -c "$tmp/b1/mosquitto.conf" >>"$tmp/b1/stderr" 2>&1 &
	broker_pid=$!
	wait_for 20 mosquitto_sub -h localhost -p "$port" --cafile "$tmp/ca.pem" -u watcher -P watchpw \
		-t probe/none -W 1 -E >/dev/null 2>&1
}
stop_broker() { kill "$broker_pid"; wait "$broker_pid" 2>/dev/null; broker_pid=; }
start_broker || { cat "$tmp/b1/stderr" "$tmp/b1/broker.log"; fail "the broker did not start"; exit 1; }

# A second site's broker, bridged to the first: it sees the first host's units.
port2=$(free_port)
cat >"$tmp/b2/mosquitto.conf" <<CONF
user $(id -un)
allow_anonymous true
log_dest file $tmp/b2/broker.log
listener $port2 127.0.0.1
connection site1
address 127.0.0.1:$port
bridge_cafile $tmp/ca.pem
remote_username bridge
remote_password bridgepw
topic coldroom/v1/# in 1
CONF
"$MOSQUITTO" -c "$tmp/b2/mosquitto.conf" >"$tmp/b2/stderr" 2>&1 &
bridge_pid=$!

# What arrives, as a consumer would see it: a persistent QoS 1 session, so
# that nothing is lost while the broker is restarted.
sub() {
	mosquitto_sub -h localhost -p "$port" --cafile "$tmp/ca.pem" -u watcher -P watchpw "$@"
}
sub -i watcher-1 -c -q 1 -t 'coldroom/v1/#' -v >"$tmp/sub.log" 2>"$tmp/sub.err" &
sub_pid=$!
wait_for 20 grep -q "watcher-1" "$tmp/b1/broker.log" || fail "the watcher did not connect"
wait_for 20 mosquitto_sub -h 127.0.0.1 -p "$port2" -t probe/none -W 1 -E >/dev/null 2>&1 ||
	fail "the bridged broker did not start"
mosquitto_sub -h 127.0.0.1 -p "$port2" -q 1 -t 'coldroom/v1/#' -v >"$tmp/bridge-sub.log" 2>&1 &
bridge_sub_pid=$!

"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" 2>>"$tmp/daemon.log" &
daemon_pid=$!
wait_for 20 ctl list >/dev/null 2>&1 || { fail "coldroomd did not start"; exit 1; }
"$RECORDER" --bus "$addr" --config "$tmp/coldroom.conf" --database "$db" 2>>"$tmp/recorder.log" &
recorder_pid=$!
wait_for 20 bus_has_name org.coldroom.Recorder1 ||
	{ fail "the recorder did not start"; exit 1; }

# --- settings and secrets ------------------------------------------------------
printf 's3cret pass\n' >"$tmp/password"
chmod 600 "$tmp/password"
uplink_conf() { # uplink_conf FILE [EXTRA LINES]: the test's site, broker and user
	cat >"$1" <<CONF
# the test broker
Broker=localhost:$port
Site=plant-1
Host=gw1
Username=uplink
PasswordFile=$tmp/password
CAFile=$tmp/ca.pem
KeepaliveSec=5
HomeAssistantDiscovery=yes
PublishSamples=yes
${2:-}
CONF
}
uplink_conf "$tmp/uplink.conf"
up_prop() { busctl --address="$addr" get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 org.coldroom.Uplink1 "$1" 2>/dev/null; }
state_is() { up_prop State | grep -qF "$1"; }
start_uplink() { # start_uplink CONFIG [STATE DIR]
	"$UPLINK" --bus "$addr" --config "$1" --state-dir "${2:-$tmp/state}" 2>>"$tmp/uplink.log" &
	uplink_pid=$!
}

out=$("$UPLINK" --bus "$addr" --config "$tmp/none.conf" --state-dir "$tmp/state" 2>&1); rc=$?
check "without settings it does nothing, and says so ($out)" \
	bash -c "[ $rc -eq 0 ] && grep -q 'not configured' <<<'$out'"
out=$("$UPLINK" --bus "$addr" --config "$here/../../../daemon/uplink/uplink.conf" --state-dir "$tmp/state" 2>&1); rc=$?
check "nor with the shipped settings, every key commented out ($out)" bash -c "[ $rc -eq 0 ] && grep -q 'not configured' <<<'$out'"
printf 'Broker=localhost\nSite=a/b\n' >"$tmp/bad.conf"
out=$("$UPLINK" --bus "$addr" --config "$tmp/bad.conf" --state-dir "$tmp/state" 2>&1); rc=$?
check "a bad setting is refused with its line ($out)" \
	bash -c "[ $rc -eq 1 ] && grep -qF 'bad.conf:2: Site=a/b must be' <<<'$out'"
cp "$tmp/password" "$tmp/open-password"; chmod 644 "$tmp/open-password"
uplink_conf "$tmp/open.conf"
sed -i "s|^PasswordFile=.*|PasswordFile=$tmp/open-password|" "$tmp/open.conf"
out=$("$UPLINK" --bus "$addr" --config "$tmp/open.conf" --state-dir "$tmp/state" 2>&1); rc=$?
check "a password file every user may read is refused ($out)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'may be read by every user' <<<'$out'"
check "and nothing was connected or kept" test ! -e "$tmp/state/cursor"
# Drop-ins: FILE.d/*.conf after FILE, which need not exist.
mkdir "$tmp/dropin.conf.d"
uplink_conf "$tmp/dropin.conf.d/10-uplink.conf"
sed -i "s|^PasswordFile=.*|PasswordFile=$tmp/open-password|" "$tmp/dropin.conf.d/10-uplink.conf"
out=$("$UPLINK" --bus "$addr" --config "$tmp/dropin.conf" --state-dir "$tmp/state" 2>&1); rc=$?
check "a Broker= only in a drop-in is configured ($out)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'may be read by every user' <<<'$out'"
printf 'KeepaliveSec=1\n' >"$tmp/dropin.conf.d/20-bad.conf"
out=$("$UPLINK" --bus "$addr" --config "$tmp/dropin.conf" --state-dir "$tmp/state" 2>&1); rc=$?
check "a bad drop-in is refused with its file and line ($out)" \
	bash -c "[ $rc -eq 1 ] && grep -qF 'dropin.conf.d/20-bad.conf:1: KeepaliveSec=1 is out of range' <<<'$out'"
# A password without TLS is refused, from a file or a credential, unless the site allows it.
uplink_conf "$tmp/plain.conf"
sed -i "/^CAFile=/d" "$tmp/plain.conf"
out=$("$UPLINK" --bus "$addr" --config "$tmp/plain.conf" --state-dir "$tmp/state" 2>&1); rc=$?
check "a password without CAFile= is refused ($out)" \
	bash -c "[ $rc -eq 1 ] && grep -qF 'PasswordFile= without CAFile= would send the password in clear' <<<'$out'"
sed -i "/^PasswordFile=/d" "$tmp/plain.conf"
mkdir -p "$tmp/plaincreds"; cp -p "$tmp/password" "$tmp/plaincreds/mqtt-password"
out=$(CREDENTIALS_DIRECTORY=$tmp/plaincreds "$UPLINK" --bus "$addr" --config "$tmp/plain.conf" \
	--state-dir "$tmp/state" 2>&1); rc=$?
check "so is the credential mqtt-password without CAFile= ($out)" \
	bash -c "[ $rc -eq 1 ] && grep -qF 'without CAFile= would be sent in clear' <<<'$out'"
check "and nothing was connected or kept" test ! -e "$tmp/state/cursor"

# --- connected: birth, intervals, events, state ---------------------------------
start_uplink "$tmp/uplink.conf"
check "connected: the State on the bus" wait_for 30 state_is connected
check "Connected is true" bash -c "up_prop() { busctl --address='$addr' get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 org.coldroom.Uplink1 Connected; }; up_prop | grep -q true"
check "the first start keeps its cursors" wait_for 10 test -s "$tmp/state/cursor"
# The shipped introspection XML is exactly what the uplink publishes.
if introspection_matches org.coldroom.Uplink1 "$here/../../../daemon/uplink/org.coldroom.Uplink1.xml"; then
	pass "org.coldroom.Uplink1.xml matches the uplink"
else
	fail "org.coldroom.Uplink1.xml differs from the uplink's introspection"
fi
check "Broker, Site and Host on the bus" bash -c "[ \"\$(busctl --address='$addr' get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 org.coldroom.Uplink1 Broker Site Host | tr '\n' ' ')\" = 's \"localhost:$port\" s \"plant-1\" s \"gw1\" ' ]"
base=coldroom/v1/plant-1/gw1
check "birth: the host's status is online" wait_for 10 \
	grep -q "^$base/status {.*\"state\":\"online\"" "$tmp/sub.log"
retained=$(sub -t "$base/status" -C 1 -W 10 -F '%r %p'); 
check "and retained ($retained)" bash -c "grep -q '^1 .*\"state\":\"online\"' <<<'$retained'"

# sample UNIT TEMP1 TEMP2: a new sample, published by coldroomd.
seq_no=0
sample() {
	local d=$sys/class/coldroom/$1
	seq_no=$((seq_no + 1))
	echo "$2" >"$d/temp1"; echo "$3" >"$d/temp2"
	awk '{ printf "%.0f\n", $1 * 1e9 }' /proc/uptime >"$d/sample_time_ns"
	echo "$seq_no" >"$d/sample_seq"
	ctl reload >/dev/null
}
sample sensor0 -18000 4000
sample sensor1 -20000 3000
# seqs TOPIC-LEAF: the seq of every message of that kind, in arrival order.
seqs() { grep "^$base/[^ ]*$1 " "$tmp/sub.log" | sed 's/.*"seq":\([0-9]*\).*/\1/'; }
check "an interval of every unit and probe arrives" wait_for 40 \
	bash -c "[ \$(grep -c '^$base/unit/SIM-00000[12]/interval ' '$tmp/sub.log') -ge 4 ]"
first=$(grep -m1 "^$base/unit/SIM-000001/interval " "$tmp/sub.log" | cut -d' ' -f2-)
fseq=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["seq"])' "$first" 2>/dev/null)
row=$(q "SELECT serial || ',' || probe || ',' || start_us || ',' || end_us || ',' || n || ',' || status FROM record WHERE seq = ${fseq:-0}")
got=$(python3 -c '
import json, sys
m = json.loads(sys.argv[1])
st = ["ok", "no-data", "probe-fault", "unit-gone", "not-running", "clock-jump", "not-written"]
print("%s,%d,%d,%d,%d,%d" % (m["serial"], m["probe"], m["start_us"], m["end_us"], m["samples"], st.index(m["status"])))
assert m["v"] == 1 and m["site"] == "plant-1" and m["host"] == "gw1"
assert m["historical"] is False and m["end"].endswith("Z")' "$first" 2>&1)
check "its payload is the record's row $fseq: serial, probe, times, samples, status ($got)" \
	test -n "$row" -a "$got" = "$row"

check "PublishSamples: each sample live, with its unit's serial and sample seq" wait_for 20 \
	grep -q "^$base/unit/SIM-000002/sample {.*\"serial\":\"SIM-000002\",\"sample_seq\":$seq_no,.*\"temp1_mdeg\":-20000" "$tmp/sub.log"
fake_unit "$sys" sensor2 SIM-000003
# The uplink lists the units again a little after a burst of changes: sample until then.
added_unit_seen() {
	sample sensor2 -21000 2000
	grep -q "^$base/unit/SIM-000003/sample {.*\"serial\":\"SIM-000003\"" "$tmp/sub.log"
}
check "and those of a unit added meanwhile" wait_for 20 added_unit_seen

echo 1 >"$sys/class/coldroom/sensor0/temp1_alarm"
sample sensor0 -9000 4000
check "an alarm raised arrives as an event, with its reading" wait_for 20 \
	grep -q "^$base/unit/SIM-000001/event {.*\"event\":\"alarm-raised\".*\"reading_mdeg\":-9000" "$tmp/sub.log"
ctl ack sensor0 1 --comment "door closed" >/dev/null || fail "coldroomctl ack"
check "its acknowledgement arrives, with who and the comment" wait_for 20 \
	grep -q "^$base/unit/SIM-000001/event {.*\"event\":\"alarm-acknowledged\".*\"user\":\"$(id -un)\".*door closed" "$tmp/sub.log"
check "every event carries the audit seq and the unit's serial" bash -c \
	"grep '^$base/unit/SIM-000001/event ' '$tmp/sub.log' | grep -v '\"seq\":[0-9]*,\"serial\":\"SIM-000001\"' | wc -l | grep -qx 0"
state_has() { sub -t "$base/unit/SIM-000001/state" -C 1 -W 10 -F '%r %p' | grep -q "$1"; }
check "the unit's state is retained, with the alarm acknowledged" wait_for 20 \
	state_has '^1 .*"alarm1":"acknowledged"'
check "Home Assistant discovery of each probe, retained" bash -c \
	"mosquitto_sub -h localhost -p $port --cafile '$tmp/ca.pem' -u watcher -P watchpw -t 'homeassistant/sensor/+/config' -C 2 -W 10 -F '%r %t' | grep -c '^1 homeassistant/sensor/coldroom_plant-1_gw1_SIM-00000[123]_[12]/config' | grep -qx 2"
check "the bridged broker sees the first host's units" wait_for 20 \
	grep -q "^$base/unit/SIM-000002/interval " "$tmp/bridge-sub.log"

# Bounded by the units that exist: coldroomd names the largest Number
# there is in InterfacesAdded and Readings (lib.sh, huge_units).
rss0=$(rss_kb "$uplink_pid")
huge_units "$sys"
huge_unit_seen() {
	sample sensor1048575 -22000 1000
	grep -q "^$base/unit/SIM-100000/sample {.*\"serial\":\"SIM-100000\"" "$tmp/sub.log"
}
check "PublishSamples: the samples of the unit of the largest Number" wait_for 20 huge_unit_seen
check "and none of a unit without a Number" bash -c "! grep -q '/SIM-100001/sample ' '$tmp/sub.log'"
check "the uplink's resident memory grew by at most 20 MB" rss_within "$uplink_pid" "$rss0" 20480

# rows_verdict BEFORE DOWN LIVE: the record's rows as a consumer got them,
# de-duplicated by seq: all there from the first on, in order; those of
# (BEFORE, DOWN], recorded while they could not be sent, historical; those
# after LIVE, recorded once all was sent again, live. "ok: ..." or the problems.
rows_verdict() {
	python3 - "$tmp/sub.log" "$base" "$1" "$2" "$3" <<'PY'
import json, sys
log, base, before, down, live = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
seen, order, problems = {}, [], []
for line in open(log):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if not (topic.endswith("/interval") or topic == base + "/gap"):
        continue
    m = json.loads(payload)
    if m["seq"] in seen:
        continue        # a duplicate: the consumer drops it by seq
    seen[m["seq"]] = m
    order.append(m["seq"])
if not seen:
    sys.exit(print("no rows at all"))
if order != sorted(order):
    problems.append("out of order")
missing = [s for s in range(min(seen), max(seen) + 1) if s not in seen]
if missing:
    problems.append("missing %s" % missing)
if not all(s in seen for s in range(before + 1, down + 1)):
    problems.append("rows %d..%d did not all arrive" % (before + 1, down))
problems += ["%d was sent late but not historical" % s
             for s in range(before + 1, down + 1) if s in seen and not seen[s]["historical"]]
problems += ["%d is live but historical" % s for s in seen if s > live and seen[s]["historical"]]
print("; ".join(problems) or "ok: rows %d..%d, %d of them historical" %
      (min(seen), max(seen), sum(1 for m in seen.values() if m["historical"])))
PY
}
rows_ok() { [[ "$(rows_verdict "$@")" == ok:* ]]; }
backlog_empty() {
	busctl --address="$addr" get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 \
		org.coldroom.Uplink1 Backlog | grep -qx 't 0'
}
# Has a row after seq $1 arrived?
row_after() { grep -o '"seq":[0-9]*' "$tmp/sub.log" | cut -d: -f2 | awk -v s="$1" '$1 > s { f = 1 } END { exit !f }'; }

# --- store and forward ------------------------------------------------------------
check "nothing is waiting" wait_for 20 backlog_empty
before=$(q "SELECT max(seq) FROM record")
stop_broker
check "the broker gone: said on the bus" wait_for 30 state_is "retrying"
check "and in STATUS terms in the log" wait_for 10 grep -q "localhost:$port: connection" "$tmp/uplink.log"
# Units sample on while the broker is away, for two intervals and more.
for i in 1 2 3; do sample sensor0 "-1800$i" 4000; sleep 1; done
check "two intervals are recorded meanwhile" wait_for 40 q_ge "SELECT max(seq) FROM record" $((before + 8))
check "and wait in the backlog" wait_for 10 bash -c "busctl --address='$addr' get-property org.coldroom.Uplink1 /org/coldroom/Uplink1 org.coldroom.Uplink1 Backlog | grep -qv 't 0'"
down_head=$(q "SELECT max(seq) FROM record")
start_broker || fail "the broker did not start again"
check "connected again" wait_for 60 state_is connected
check "the backlog is sent" wait_for 60 backlog_empty
live_from=$(q "SELECT max(seq) FROM record")
check "and the live stream goes on" wait_for 40 row_after "$live_from"
check "every row once, in order, the outage's marked historical, the live ones not ($(rows_verdict "$before" "$down_head" "$live_from"))" \
	rows_ok "$before" "$down_head" "$live_from"

# --- the last will ------------------------------------------------------------------
kill -9 "$uplink_pid"; wait "$uplink_pid" 2>/dev/null; uplink_pid=
check "kill -9: the broker says the host is offline (its last will)" wait_for 30 \
	bash -c "grep '^$base/status ' '$tmp/sub.log' | tail -n1 | grep -q '\"state\":\"offline\"'"
retained=$(sub -t "$base/status" -C 1 -W 10 -F '%r %p')
check "and that is retained ($retained)" bash -c "grep -q '^1 .*offline' <<<'$retained'"

# Back after the crash: from its cursor file, what was recorded meanwhile first.
before=$(q "SELECT max(seq) FROM record")
check "an interval is recorded while the uplink is dead" wait_for 30 q_ge "SELECT max(seq) FROM record" $((before + 4))
down_head=$(q "SELECT max(seq) FROM record")
start_uplink "$tmp/uplink.conf"
check "restarted: connected" wait_for 30 state_is connected
check "online again" wait_for 10 bash -c "grep '^$base/status ' '$tmp/sub.log' | tail -n1 | grep -q '\"state\":\"online\"'"
check "its backlog sent" wait_for 60 backlog_empty
live_from=$(q "SELECT max(seq) FROM record")
check "and live again" wait_for 40 row_after "$live_from"
check "every row once, in order, those of the crash historical ($(rows_verdict "$before" "$down_head" "$live_from"))" \
	rows_ok "$before" "$down_head" "$live_from"
kill "$uplink_pid"; wait "$uplink_pid"; rc=$?; uplink_pid=
check "a clean stop" test "$rc" -eq 0
check "says offline itself" wait_for 10 bash -c "grep '^$base/status ' '$tmp/sub.log' | tail -n1 | grep -q '\"state\":\"offline\"'"

# --- clear errors: a wrong password (as a systemd credential), an untrusted CA ------------
mkdir -p "$tmp/creds" "$tmp/state2"
printf 'wrong\n' >"$tmp/creds/mqtt-password"; chmod 600 "$tmp/creds/mqtt-password"
: >"$tmp/uplink.log"
# What systemd would show in "systemctl status": the STATUS= of sd_notify.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode(errors="replace") + "\n")
' "$tmp/notify" "$tmp/notify.log" &
extra_pids="$extra_pids $!"
wait_for 10 test -S "$tmp/notify" || fail "no notify socket"
CREDENTIALS_DIRECTORY=$tmp/creds NOTIFY_SOCKET=$tmp/notify start_uplink "$tmp/uplink.conf" "$tmp/state2"
check "a wrong password: the State says not authorised" wait_for 30 state_is "not authori"
check "and the log says so" wait_for 10 grep -q "refused by the broker: .*not authori" "$tmp/uplink.log"
check "and the STATUS= line systemctl status shows" wait_for 10 grep -q "^STATUS=refused by the broker: .*not authori" "$tmp/notify.log"
check "READY=1 was sent: a broker that refuses does not fail the service" grep -q "READY=1" "$tmp/notify.log"
check "and it retries with a growing delay" wait_for 30 grep -q "retrying in 2 s" "$tmp/uplink.log"
kill "$uplink_pid"; wait "$uplink_pid"; rc=$?; uplink_pid=
check "it stops cleanly meanwhile" test "$rc" -eq 0
uplink_conf "$tmp/plain.conf"
sed -i "/^CAFile=/d" "$tmp/plain.conf"
NOTIFY_SOCKET=$tmp/notify "$UPLINK" --bus "$addr" --config "$tmp/plain.conf" --state-dir "$tmp/state2" \
	>/dev/null 2>&1; rc=$?
check "a password without TLS fails the service ($rc), the reason in STATUS=" bash -c \
	"[ $rc -eq 1 ] && grep -q '^STATUS=.*PasswordFile= without CAFile= would send the password in clear' '$tmp/notify.log'"

uplink_conf "$tmp/nobroker.conf"
sed -i "s|^Broker=.*|Broker=127.0.0.1:$(free_port)|" "$tmp/nobroker.conf"
: >"$tmp/uplink.log"
start_uplink "$tmp/nobroker.conf" "$tmp/state2"
check "no broker listening: the State says so" wait_for 30 state_is "connection failed: "
check "and it retries" wait_for 30 grep -q "connection failed: .*; retrying in 2 s" "$tmp/uplink.log"
kill "$uplink_pid"; wait "$uplink_pid"; uplink_pid=

uplink_conf "$tmp/rogue.conf"
sed -i "s|^CAFile=.*|CAFile=$tmp/rogue.pem|" "$tmp/rogue.conf"
: >"$tmp/uplink.log"
start_uplink "$tmp/rogue.conf" "$tmp/state2"
check "an untrusted certificate: the State says why" wait_for 30 state_is "TLS: certificate verify failed"
check "and the log too" wait_for 10 grep -q "TLS: certificate verify failed" "$tmp/uplink.log"
check "and it retries" wait_for 30 grep -q "retrying in 2 s" "$tmp/uplink.log"
echo "note: $(up_prop State)"
kill "$uplink_pid"; wait "$uplink_pid"; uplink_pid=

# A broker whose certificate has expired (a third one, the first's settings otherwise).
port3=$(free_port)
mkdir -p "$tmp/b3"
sed -e "s|^listener .*|listener $port3 127.0.0.1|" -e "s|^certfile .*|certfile $tmp/expired.pem|" \
	-e "s|^log_dest .*|log_dest file $tmp/b3/broker.log|" -e "s|^persistence .*|persistence false|" \
	"$tmp/b1/mosquitto.conf" >"$tmp/b3/mosquitto.conf"
"$MOSQUITTO" -c "$tmp/b3/mosquitto.conf" >"$tmp/b3/stderr" 2>&1 &
extra_pids="$extra_pids $!"
uplink_conf "$tmp/expired.conf"
sed -i "s|^Broker=.*|Broker=localhost:$port3|" "$tmp/expired.conf"
: >"$tmp/uplink.log"
start_uplink "$tmp/expired.conf" "$tmp/state2"
check "an expired certificate: the State says so" wait_for 30 \
	state_is "TLS: certificate verify failed (certificate has expired)"
check "and the log too" wait_for 10 grep -q "certificate has expired" "$tmp/uplink.log"
kill "$uplink_pid"; wait "$uplink_pid"; uplink_pid=

# A broker that takes the messages, answers pings, and never acknowledges one.
port4=$(free_port)
python3 - "$port4" >"$tmp/deaf.log" 2>&1 <<'PY' &
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(4)
print("listening", flush=True)
while True:
    c, _ = srv.accept()
    buf = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        buf += d
        while len(buf) >= 2:
            n, m, i = 0, 1, 1
            while i < len(buf) and buf[i] & 0x80:
                n += (buf[i] & 0x7f) * m; m *= 128; i += 1
            if i >= len(buf):
                break
            n += (buf[i] & 0x7f) * m
            if len(buf) < i + 1 + n:
                break
            kind = buf[0] >> 4
            buf = buf[i + 1 + n:]
            if kind == 1:
                c.sendall(b"\x20\x02\x00\x00")      # CONNACK: accepted
                print("connect", flush=True)
            elif kind == 12:
                c.sendall(b"\xd0\x00")              # PINGRESP
            elif kind == 3:
                print("publish", flush=True)       # never a PUBACK
    c.close()
PY
extra_pids="$extra_pids $!"
wait_for 10 grep -q listening "$tmp/deaf.log" || fail "the deaf broker did not start"
cat >"$tmp/deaf.conf" <<CONF
Broker=127.0.0.1:$port4
Site=plant-1
Host=gw1
KeepaliveSec=5
CONF
rm -rf "$tmp/state4"; cp -r "$tmp/state" "$tmp/state4"; cp "$tmp/state4/cursor" "$tmp/cursor-before"
: >"$tmp/uplink.log"
start_uplink "$tmp/deaf.conf" "$tmp/state4"
check "a broker that never acknowledges gets the record's messages" wait_for 30 grep -q publish "$tmp/deaf.log"
check "after two keepalives the uplink says so and reconnects" wait_for 30 \
	grep -q "no acknowledgement for 10 s: reconnecting" "$tmp/uplink.log"
check "and connects again" wait_for 30 grep -q "connected (again after no acknowledgement" "$tmp/uplink.log"
kill "$uplink_pid"; wait "$uplink_pid"; uplink_pid=
check "its cursor did not move past what was never acknowledged" cmp -s "$tmp/cursor-before" "$tmp/state4/cursor"

kill "$recorder_pid" "$daemon_pid"; wait "$recorder_pid" "$daemon_pid"; recorder_pid= daemon_pid=

# --- the chain off the host ---------------------------------------------------------
chain=$here/../record/chain.py
grep -E "^$base/(unit/[^ /]*/interval|gap) " "$tmp/sub.log" | cut -d' ' -f2- >"$tmp/rows.json"
grep -E "^$base/(unit/[^ /]*/)?event " "$tmp/sub.log" | cut -d' ' -f2- >"$tmp/events.json"
out=$(python3 "$chain" mqtt "$tmp/rows.json" 2>&1); rc=$?
check "the broker's rows: each hash follows from its payload and chains from the row before ($(wc -l <"$tmp/rows.json") messages)" \
	test "$rc" = 0
out=$(python3 "$chain" mqtt "$tmp/events.json" 2>&1); rc=$?
check "so do the broker's audit entries ($(wc -l <"$tmp/events.json") messages; $(tail -n1 <<<"$out"))" \
	test "$rc" = 0
# differs: the seqs whose hash the broker has otherwise than the database.
differs() {
	python3 "$chain" mqtt "$tmp/rows.json" | while read -r s h; do
		[ "$(q "SELECT hex(hash) FROM record WHERE seq = $s" | tr A-F a-f)" = "$h" ] || echo "$s"
	done
}
check "the broker's copy is the database's, hash for hash" test -z "$(differs)"
edit=$(python3 -c '
import json, sys
print(min(json.loads(l)["seq"] for l in open(sys.argv[1]) if json.loads(l)["samples"] > 0))' "$tmp/rows.json")
out=$(python3 "$chain" rewrite "$db" "$edit" max 30000); rc=$?
check "a consistent rewrite of row $edit ($out)" test "$rc" = 0
out=$(ctl --database "$db" record verify --no-journal); rc=$?
check "which the file alone cannot tell ($out)" test "$rc" = 0
bad=$(differs | head -n1)
check "the broker's copy disagrees with the database from row $edit on (${bad:-none})" test "$bad" = "$edit"

if [ "$failures" -ne 0 ]; then
	echo "--- uplink log"; cat "$tmp/uplink.log"
	echo "--- messages"; tail -n 60 "$tmp/sub.log"
	echo "--- broker"; tail -n 30 "$tmp/b1/broker.log"
	echo "--- record"; q "SELECT seq, start_us, serial, probe, n, status FROM record"
fi
echo "test_uplink: $failures failure(s)"
[ "$failures" = 0 ]
