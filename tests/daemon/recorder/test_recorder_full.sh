#!/bin/bash
# coldroom-recorder on a full disk: the record on a small tmpfs, the rest
# of it filled while units sample. The recorder says so (its log, the
# STATUS= line: "cannot write the record: disk full; retrying"), keeps
# the intervals it could not write, and when space returns writes them,
# says so, and goes on: integrity_check ok, verify intact, no time missing.
# Needs root (mount); environment as test_recorder.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "test_recorder_full: needs root to mount a small file system"; exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/coldroom-recorder-full.XXXXXX")
disk=$tmp/disk
bus_pid= daemon_pid= recorder_pid= notify_pid=
cleanup() {
	local p
	for p in $recorder_pid $daemon_pid $bus_pid $notify_pid; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	umount "$disk" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$disk"
mount -t tmpfs -o size=2m tmpfs "$disk" || { echo "test_recorder_full: cannot mount a tmpfs"; exit 1; }
sys=$tmp/sys
mkdir -p "$sys/class/coldroom" "$tmp/model"
for i in $(seq 0 19); do
	fake_unit "$sys" "sensor$i" "$(printf 'SIM-%06d' "$i")"
done
printf 'ModelFirmwareDir=%s\nRecordIntervalSec=10\n' "$tmp/model" >"$tmp/coldroom.conf"
start_private_bus "$tmp" || { echo "test_recorder_full: no dbus-daemon"; exit 1; }
"$COLDROOMD" --bus "$addr" --sysfs-root "$sys" --config "$tmp/coldroom.conf" 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do "$COLDROOMCTL" --bus "$addr" list >/dev/null 2>&1 && break; sleep 0.1; done

# The recorder's sd_notify messages, as systemd would get them.
python3 - "$tmp/notify" >"$tmp/notified" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode(errors="replace"), flush=True)
PY
notify_pid=$!
for _ in $(seq 50); do [ -S "$tmp/notify" ] && break; sleep 0.1; done
db=$disk/record.db
q() { sqlite3 -batch -noheader -cmd '.timeout 5000' "$db" "$1"; }
# The row count, or a failure: a database missing, locked or unreadable is
# an error to report, never 0 rows.
rows() {
	local n
	[ -s "$db" ] || { echo "rows: $db is missing or empty" >&2; return 1; }
	n=$(q "SELECT count(*) FROM record") || return 1
	[[ $n =~ ^[0-9]+$ ]] || { echo "rows: '$n' is not a count" >&2; return 1; }
	echo "$n"
}
# rows_are OP N: the count, read successfully, compares so to N.
rows_are() { local n; n=$(rows) && [ "$n" "$1" "$2" ]; }
NOTIFY_SOCKET=$tmp/notify "$RECORDER" --bus "$addr" --config "$tmp/coldroom.conf" \
	--database "$db" 2>"$tmp/recorder.log" &
recorder_pid=$!
check "rows are written" wait_for 25 rows_are -gt 0 2>/dev/null

# Fill the disk; the next interval cannot be written.
dd if=/dev/zero of="$disk/filler" bs=4k 2>/dev/null
said_full() { grep -q "disk full" "$tmp/recorder.log"; }
check "the recorder says the disk is full" wait_for 25 said_full
# Counted once a write has failed: a commit under way while dd ran is in.
before=$(rows) || { fail "the rows written before the disk was full cannot be counted"; exit 1; }
# The datagram and the log line come apart: wait for the listener's copy.
check "and so does its STATUS= line" wait_for 10 \
	grep -q "STATUS=cannot write the record: disk full; retrying" "$tmp/notified"
failing() { busctl --address="$addr" get-property org.coldroom.Recorder1 /org/coldroom/Recorder1 \
	org.coldroom.Recorder1 WriteFailing 2>/dev/null | grep -qx "b $1"; }
check "and so does its WriteFailing property on the bus" failing true
check "it is still running" kill -0 "$recorder_pid"
sleep 12	# another interval due while the disk is full
check "nothing was written meanwhile" rows_are -eq "$before"

rm -f "$disk/filler"
said_back() { grep -q "the record is written again" "$tmp/recorder.log"; }
check "space back: it says it writes again" wait_for 20 said_back
check "and the held intervals are written" wait_for 10 rows_are -gt "$before"
check "WriteFailing is false again" wait_for 10 failing false
kill "$recorder_pid"; wait "$recorder_pid"; rc=$?; recorder_pid=
check "it stops cleanly" test "$rc" -eq 0
check "PRAGMA integrity_check: ok" test "$(q 'PRAGMA integrity_check')" = ok
out=$("$COLDROOMCTL" --database "$db" record verify 2>&1); rc=$?
check "record verify: $out" test "$rc" -eq 0
holes=$(q "SELECT count(*) FROM (SELECT start_us, max(end_us) OVER (ORDER BY seq
	ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered FROM record)
	WHERE covered IS NOT NULL AND start_us > covered")
check "no time is missing from the record ($holes holes)" test "$holes" = 0

[ "$failures" -ne 0 ] && { cat "$tmp/recorder.log"; cat "$tmp/notified"; }
echo "test_recorder_full: $failures failure(s)"
[ "$failures" = 0 ]
