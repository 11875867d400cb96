#!/bin/bash
# coldroom-metrics against coldroomd on a fake sysfs tree and a private
# bus, started by systemd-socket-activate as systemd would start it: the
# page passes promtool and says what coldroomctl says; units added,
# removed and relabelled show; bad requests get HTTP errors and change
# nothing; coldroomd stopped gives 503 with the reason, and its return
# brings the metrics back.
# Environment (set by the Makefile): COLDROOMD, COLDROOMCTL, METRICS.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-metrics-test
metrics_pid=
trap 'kill $metrics_pid 2>/dev/null; scratch_cleanup' EXIT

for tool in systemd-socket-activate curl promtool python3; do
	command -v "$tool" >/dev/null || { echo "test_metrics: $tool is missing (make deps)"; exit 1; }
done
sys=$tmp/sys
mkdir -p "$sys/class/coldroom" "$tmp/model"
fake_unit "$sys" sensor0 SIM-000001
fake_unit "$sys" sensor1 SIM-000002
# A label with what the exposition format must escape.
printf '%s\n' 'Freezer "B" \1' >"$sys/class/coldroom/sensor1/label"
cat >"$tmp/coldroom.conf" <<CONF
ModelFirmwareDir=$tmp/model
ReadingsBatchMs=50
CONF
start_private_bus "$tmp" || { echo "test_metrics: no dbus-daemon"; exit 1; }
start_daemon() {
	"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" 2>>"$tmp/daemon.log" &
	daemon_pid=$!
	wait_for 20 ctl list >/dev/null 2>&1
}
# The fake tree cannot notify: a reload makes coldroomd read it again.
publish() { ctl reload >/dev/null; sleep 0.3; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
# scrape [CURL ARGS...]: GET /metrics into $tmp/page; prints the status.
scrape() {
	curl -sS --max-time 20 -o "$tmp/page" -D "$tmp/headers" -w '%{http_code}' "$@" "$url/metrics"
}
status_is() { [ "$(scrape)" = "$1" ]; }
page_has() { status_is 200 && grep -qF -- "$1" "$tmp/page"; }
page_lacks() { status_is 200 && ! grep -qF -- "$1" "$tmp/page"; }
# same_as_ctl UNIT...: the page says what coldroomctl shows of exactly these units.
same_as_ctl() {
	local u files=()
	for u in "$@"; do
		ctl --json show "$u" >"$tmp/show-$u.json" || return 1
		files+=("$tmp/show-$u.json")
	done
	status_is 200 && python3 "$here/metrics_compare.py" "$tmp/page" "${files[@]}" >"$tmp/compare.out"
}
# value NAME{LABELS}: the sample of that series on the last page.
value() { awk -v s="$1 " 'index($0, s) == 1 { print substr($0, length(s) + 1) }' "$tmp/page"; }

# Usage errors, before anything runs.
out=$("$METRICS" --bus "$addr" 2>&1); rc=$?
check "without a socket or --listen: a usage error that says what to do ($out)" \
	test "$rc" -eq 2 -a -n "$(grep -F -- "--listen" <<<"$out")"
out=$("$METRICS" --bus "$addr" --listen localhost 2>&1); rc=$?
check "a --listen without a port is refused ($out)" test "$rc" -eq 1
out=$("$METRICS" --bus "$addr" --listen 127.0.0.1:99999 2>&1); rc=$?
check "a port out of range is refused" test "$rc" -eq 1

start_daemon || { fail "coldroomd did not start"; cat "$tmp/daemon.log"; exit 1; }
fake_sample "$sys" sensor0 -18250 3500
fake_sample "$sys" sensor1 -21000 -500
echo 1 >"$sys/class/coldroom/sensor0/temp2_alarm"
publish

# Socket activation: the program runs only once a client connects.
listen=(-l "127.0.0.1:$port")
grep -qs . /proc/net/if_inet6 && listen+=(-l "[::1]:$port")
# As root, run it as the service does: a user of its own with no
# capabilities, in a network namespace of its own (PrivateNetwork=).
sandbox=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v unshare >/dev/null; then
	chmod 755 "$tmp"
	sandbox=(unshare --net setpriv --reuid=65534 --regid=65534 --clear-groups
		 --inh-caps=-all --bounding-set=-all --no-new-privs)
fi
systemd-socket-activate "${listen[@]}" "${sandbox[@]}" "$METRICS" --bus "$addr" 2>"$tmp/metrics.log" &
metrics_pid=$!
wait_for 10 grep -q "Listening on" "$tmp/metrics.log"
check "nothing runs before the first connection" \
	test "$(cat "/proc/$metrics_pid/comm")" = systemd-socket-
check "the first scrape starts it and is answered" status_is 200
check "by coldroom-metrics, on the passed socket" test "$(cat "/proc/$metrics_pid/comm")" = coldroom-metric
if [ ${#sandbox[@]} -gt 0 ]; then
	check "as nobody, without capabilities, in its own network namespace" bash -c \
		"grep -q '^Uid:.*65534' /proc/$metrics_pid/status &&
		 grep -q '^CapEff:.*0000000000000000' /proc/$metrics_pid/status &&
		 [ \"\$(readlink /proc/$metrics_pid/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
fi
check "as the text format 0.0.4" grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$tmp/headers"
out=$(promtool check metrics <"$tmp/page" 2>&1); rc=$?
check "promtool check metrics accepts the page ($out)" test "$rc" -eq 0
check "the values are those coldroomctl shows" same_as_ctl sensor0 sensor1 ||
	cat "$tmp/compare.out"
check "millidegrees exactly, with the sample's time in ms" \
	grep -qE '^coldroom_temperature_celsius\{serial="SIM-000001",unit="sensor0",label="Room sensor0",probe="1"\} -18.25 [0-9]{13}$' "$tmp/page"
check "a label escaped" grep -qF 'label="Freezer \"B\" \\1"' "$tmp/page"
check "an alarm" test "$(value 'coldroom_alarm{serial="SIM-000001",unit="sensor0",label="Room sensor0",probe="2"}')" = 1
check "coldroomd's own figures" test "$(value coldroom_units)" = 2
check "and up" test "$(value coldroom_coldroomd_up)" = 1
if grep -qs . /proc/net/if_inet6; then
	check "IPv6 localhost too (a second socket)" \
		test "$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "http://[::1]:$port/metrics")" = 200
fi
check "two scrapes over one kept-alive connection" bash -c \
	"curl -sv --max-time 20 -o /dev/null -o /dev/null '$url/metrics' '$url/metrics' 2>&1 |
	 grep -q 'Re-using existing connection'"
check "HEAD: headers, no body" test "$(curl -sS --max-time 20 -I -o /dev/null -w '%{http_code}:%{size_download}' "$url/metrics")" = 200:0
check "/ points to /metrics" bash -c "curl -sS --max-time 20 '$url/' | grep -qF /metrics"

# Bad requests: an HTTP error each, and nothing changes.
ctl --json list >"$tmp/before.json"
code() { curl -sS --max-time 20 -o "$tmp/bad" -D "$tmp/bad-headers" -w '%{http_code}' "$@"; }
check "POST: 405" test "$(code -X POST "$url/metrics")" = 405
check "saying what is allowed" grep -qi '^Allow: GET, HEAD' "$tmp/bad-headers"
check "DELETE: 405" test "$(code -X DELETE "$url/metrics")" = 405
check "another path: 404" test "$(code "$url/metrics/../etc/passwd")" = 404
check "a body: 413" test "$(code -X GET --data-binary @"$tmp/coldroom.conf" "$url/metrics")" = 413
check "a chunked body: 413" test "$(code -X GET -H 'Transfer-Encoding: chunked' --data-binary x "$url/metrics")" = 413
big=$(head -c 65536 /dev/zero | tr '\0' a)
check "a 64 KB header: 431" test "$(code -H "X-Big: $big" "$url/metrics")" = 431
check "a 64 KB URL: an error" bash -c "[ \"\$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' '$url/metrics?$big')\" -ge 400 ]"
# raw BYTES: the status line the server answers to BYTES sent as they
# are (empty if it closed without one); fails if it could not be reached
# or neither answered nor closed within 20 s.
raw() {
	local rc
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf '%b' "$1" >&3
	timeout 20 head -n 1 <&3 | tr -d '\r'; rc=$?
	exec 3<&-
	return "$rc"
}
# refused WANT BYTES: the server, alive, answers BYTES with the status line
# WANT, or closes without one when WANT is empty (libmicrohttpd does, on a
# request line it cannot parse); and it still serves the page after.
refused() {
	local got
	got=$(raw "$2") || { echo "no answer to '$2'" >&2; return 1; }
	[ "$got" = "$1" ] || { echo "'$2' got '$got', not '$1'" >&2; return 1; }
	kill -0 "$metrics_pid" && status_is 200
}
check "garbage bytes: closed" refused '' '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n'
check "a request line without a version: 400" refused 'HTTP/1.1 400 Bad Request' 'GET /metrics\r\n\r\n'
# Only the request line: the rest, unread when it closes, would reset the connection.
out=$(raw 'GET /metrics HTTP/9.9\r\n')
check "an unknown HTTP version: 505 ($out)" test "$out" = "HTTP/1.1 505 HTTP Version Not Supported"
check "HTTP/1.1 without Host: 400" test "$(raw 'GET /metrics HTTP/1.1\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "a header line without a colon: 400" test "$(raw 'GET /metrics HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
# A connection closed mid-request: checked below (same process, right page).
exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /metr' >&3
exec 3<&-
# A request whose headers never end (slowloris) is closed at their deadline.
idle_closed() {
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n' >&3
	timeout 40 cat <&3 >/dev/null; local rc=$?
	exec 3<&-
	[ "$rc" -eq 0 ]
}
check "a request that never ends is closed by the server" idle_closed
ctl --json list >"$tmp/after.json"
check "coldroomd's units are as they were" cmp -s "$tmp/before.json" "$tmp/after.json"
check "and the next scrape is still right" same_as_ctl sensor0 sensor1 || cat "$tmp/compare.out"
check "the refusals it made are counted ($(value coldroom_metrics_requests_rejected_total))" \
	test "$(value coldroom_metrics_requests_rejected_total)" = 5
check "still the same process" kill -0 "$metrics_pid"

# A local user holding 40 connections that trickle headers, one byte a
# second (each byte resets an idle timeout): a scrape is still answered,
# and the server closes them all.
python3 - "$port" >"$tmp/trickle.out" 2>&1 <<'PY' &
import socket, sys, time
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(40)]
print("open", flush=True)
req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
for i in range(len(req)):
    for c in list(conns):
        try:
            c.send(req[i:i + 1])
        except OSError:
            conns.remove(c)
    if not conns:
        print("all closed", flush=True)
        sys.exit(0)
    time.sleep(1)
print("still open:", len(conns), flush=True)
sys.exit(1)
PY
trickle_pid=$!
check "40 trickling connections are open" wait_for 20 grep -q '^open' "$tmp/trickle.out"
check "a scrape is answered beside them" status_is 200
check "the server closes the trickling connections" wait_for 40 grep -q '^all closed' "$tmp/trickle.out"
wait "$trickle_pid"
check "which then end (status $?)" test "$(tail -n 1 "$tmp/trickle.out")" = "all closed"

# Several scrapes at once share the answer.
curls=()
for i in 1 2 3 4 5; do curl -sS --max-time 20 -o "$tmp/par$i" "$url/metrics" & curls+=($!); done
wait "${curls[@]}"
check "five scrapes at once are all answered" bash -c "for i in 1 2 3 4 5; do grep -q '^coldroom_units 2$' '$tmp/par'\$i || exit 1; done"

# Units come, change and go.
fake_unit "$sys" sensor2 SIM-000003
publish
check "a unit added shows" wait_for 20 page_has 'unit="sensor2"'
check "without a sample time: a reading without a timestamp, no sample time" bash -c \
	"grep -q '^coldroom_temperature_celsius{serial=\"SIM-000003\",unit=\"sensor2\",label=\"Room sensor2\",probe=\"1\"} -18$' '$tmp/page' &&
	 ! grep -q '^coldroom_last_sample_timestamp_seconds{serial=\"SIM-000003\"' '$tmp/page'" ||
	grep sensor2 "$tmp/page" | head -5
ctl set sensor0 "label=Freezer 1" temp1.max=-10C >/dev/null || fail "coldroomctl set"
check "a new label and threshold show" wait_for 20 page_has \
	'coldroom_temperature_max_celsius{serial="SIM-000001",unit="sensor0",label="Freezer 1",probe="1"} -10'
check "and the old label is gone" page_lacks 'label="Room sensor0"'
rm -rf "$sys/class/coldroom/sensor1"
publish
check "a unit removed disappears" wait_for 20 page_lacks 'unit="sensor1"'
check "the values are those coldroomctl shows" same_as_ctl sensor0 sensor2 || cat "$tmp/compare.out"

# Bounded by the units that exist: coldroomd names the largest Number
# there is in InterfacesAdded and GetReadings (lib.sh, huge_units).
rss0=$(rss_kb "$metrics_pid")
huge_units "$sys"
fake_sample "$sys" sensor1048575 -20000 3000
publish
check "the unit of the largest Number shows, with its reading" wait_for 20 page_has \
	'coldroom_temperature_celsius{serial="SIM-100000",unit="sensor1048575",label="Room sensor1048575",probe="1"} -20 '
check "a unit without a Number does not" page_lacks 'SIM-100001'
check "coldroom-metrics' resident memory grew by at most 20 MB" rss_within "$metrics_pid" "$rss0" 20480
rm -rf "$sys/class/coldroom/sensor1048575" "$sys/class/coldroom/sensor1048576"
publish
check "and gone again" wait_for 20 page_lacks 'SIM-100000'

# coldroomd gone, then back.
kill "$daemon_pid"; wait "$daemon_pid"; daemon_pid=
# A scrape in flight when coldroomd went fails on its own (503 too): the
# page that says why comes once the owner change has been seen.
page_is_503_saying_why() {
	status_is 503 && grep -qF "coldroomd (org.coldroom.Sensors1) is not on the bus" "$tmp/page"
}
check "coldroomd stopped: 503, saying why" wait_for 20 page_is_503_saying_why
check "with coldroom_coldroomd_up 0" test "$(value coldroom_coldroomd_up)" = 0
check "and no unit" bash -c "! grep -q sensor '$tmp/page'"
check "which promtool still reads" bash -c "promtool check metrics <'$tmp/page' >/dev/null 2>&1"
start_daemon || fail "coldroomd did not restart"
check "coldroomd back: the metrics are back" wait_for 20 page_has 'unit="sensor2"'
check "and right" same_as_ctl sensor0 sensor2 || cat "$tmp/compare.out"
check "the failed scrapes are counted" test "$(value coldroom_metrics_scrape_errors_total)" -ge 1

kill "$metrics_pid"; wait "$metrics_pid"; rc=$?; metrics_pid=
check "it stops cleanly on SIGTERM (status $rc)" test "$rc" -eq 0
if [ "$failures" -ne 0 ]; then
	echo "--- coldroom-metrics log"; cat "$tmp/metrics.log"
	echo "--- last page"; head -c 4000 "$tmp/page"
fi
echo "test_metrics: $failures failure(s)"
[ "$failures" = 0 ]
