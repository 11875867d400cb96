#!/bin/bash
# coldroom-notify (systemd/coldroom-notify, which coldroomd's alarm units
# run) sends its mail over SMTP with curl: to a local SMTP listener (in
# Python, the standard library's socket module only) that records the
# envelope and the message. The mail carries the alarm's facts in its
# headers and body, to every recipient, at both levels; a webhook whose
# URL carries a token fails, and neither the token nor the SMTP password
# reaches the log. No environment needed beyond curl and python3.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
scratch_dir coldroom-notify-test
notify=${NOTIFY:-$here/../../../systemd/coldroom-notify}
for tool in curl python3; do
	command -v "$tool" >/dev/null || { echo "test_notify: $tool is missing"; exit 1; }
done

# The SMTP listener: one session per connection, each written to
# session.N (the commands, then the message between DATA and ".").
python3 - "$tmp" <<'PY' &
import os, socket, sys
d = sys.argv[1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(4)
with open(d + "/smtp.port.new", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
os.rename(d + "/smtp.port.new", d + "/smtp.port")
n = 0
while True:
    c, _ = srv.accept()
    n += 1
    f = c.makefile("rwb")
    out = open("%s/session.%d.new" % (d, n), "wb")
    def say(line):
        f.write(line + b"\r\n")
        f.flush()
    say(b"220 test ESMTP")
    while True:
        line = f.readline()
        if not line:
            break
        out.write(b"C: " + line.rstrip(b"\r\n") + b"\n")
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            say(b"250 test")
        elif verb == b"DATA":
            say(b"354 go on")
            while True:
                body = f.readline()
                if body in (b".\r\n", b".\n", b""):
                    break
                out.write(b"M: " + body.rstrip(b"\r\n") + b"\n")
            say(b"250 queued")
        elif verb == b"QUIT":
            say(b"221 bye")
            break
        else:
            say(b"250 ok")
    out.close()
    os.rename("%s/session.%d.new" % (d, n), "%s/session.%d" % (d, n))
    c.close()
PY
extra_pids=$!
wait_for 10 test -s "$tmp/smtp.port" || { fail "the SMTP listener did not start"; exit 1; }
smtp_port=$(cat "$tmp/smtp.port")
closed_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$tmp/notify.conf" <<CONF
MAIL_TO=duty@example.com,night@example.com
MAIL_FROM=coldroom@plant-1.example.com
SMTP_URL=smtp://127.0.0.1:$smtp_port
WEBHOOK_URL=http://hook:Pa55w0rdHook@127.0.0.1:$closed_port/hooks/T0KEN-s3cr3t?key=K3Y-s3cr3t
ESCALATE_MAIL_TO=manager@example.com
CONF
# The alarm's facts, as coldroomd hands them to its alarm unit.
run_notify() {
	env COLDROOM_NOTIFY_CONF="$tmp/notify.conf" COLDROOM_SERIAL=SIM-000042 COLDROOM_PROBE=2 \
		COLDROOM_LABEL="Freezer 3" COLDROOM_TEMP_MDEG=-9500 COLDROOM_UNIT=sensor7 \
		COLDROOM_RAISED=2026-12-07T04:00:00Z COLDROOM_TEMP_MIN_MDEG=-25000 \
		COLDROOM_TEMP_MAX_MDEG=-15000 COLDROOM_TEMP_HYST_MDEG=500 COLDROOM_ALARM_ID=17 \
		"$notify" "$1" >"$tmp/notify.$1.log" 2>&1
}

run_notify alarm
rc=$?
check "alarm: the webhook failed, so the exit status says so (rc $rc)" test "$rc" -eq 1
check "the mail arrived" wait_for 10 test -e "$tmp/session.1"
s=$tmp/session.1
check "envelope: from MAIL_FROM" grep -qx 'C: MAIL FROM:<coldroom@plant-1.example.com>' "$s"
check "envelope: to every recipient" bash -c \
	"grep -qx 'C: RCPT TO:<duty@example.com>' '$s' && grep -qx 'C: RCPT TO:<night@example.com>' '$s'"
check "header From" grep -qx 'M: From: coldroom@plant-1.example.com' "$s"
check "header To" grep -qx 'M: To: duty@example.com,night@example.com' "$s"
check "header Subject: level, label, probe, temperature" \
	grep -qx 'M: Subject: Cold-room alarm (alarm): Freezer 3 probe 2 at -9.5 C' "$s"
check "body: unit, label, serial, probe, temperature, when" grep -qx \
	'M: Unit sensor7 (Freezer 3, serial SIM-000042), probe 2: -9.5 C when raised at 2026-12-07T04:00:00Z.' "$s"
check "body: the band, the alarm's id and level" grep -qx \
	'M: Band -25000 .. -15000 mC, hysteresis 500 mC. Alarm 17, level alarm.' "$s"
check "body: how to acknowledge it" grep -qx \
	'M: Acknowledge it: coldroomctl ack SIM-000042 2 --comment "what was done"' "$s"
log=$(cat "$tmp/notify.alarm.log")
check "the log says the mail went ($log)" grep -q \
	'^coldroom-notify: Cold-room alarm (alarm): Freezer 3 probe 2 at -9.5 C: mail sent to duty@example.com,night@example.com$' \
	"$tmp/notify.alarm.log"
check "and that the webhook failed, naming its host only" grep -q \
	"the webhook at 127.0.0.1:$closed_port failed (curl exit " "$tmp/notify.alarm.log"
check "no token, key or password in the log" bash -c \
	"! grep -q -e s3cr3t -e Pa55w0rd -e hooks '$tmp/notify.alarm.log'"

run_notify escalate
check "escalate: the mail arrived" wait_for 10 test -e "$tmp/session.2"
s=$tmp/session.2
check "to ESCALATE_MAIL_TO only" bash -c \
	"grep -qx 'C: RCPT TO:<manager@example.com>' '$s' && [ \$(grep -c '^C: RCPT TO:' '$s') -eq 1 ]"
check "its subject and body say escalate" bash -c \
	"grep -qx 'M: Subject: Cold-room alarm (escalate): Freezer 3 probe 2 at -9.5 C' '$s' &&
	 grep -q 'Alarm 17, level escalate\\.' '$s'"
check "no secret in its log either" bash -c "! grep -q -e s3cr3t -e Pa55w0rd '$tmp/notify.escalate.log'"

# The SMTP server gone: the failure is said, with the host only.
sed -i "s|^SMTP_URL=.*|SMTP_URL=smtp://mailer:Sm7pS3cret@127.0.0.1:$closed_port|; s|^WEBHOOK_URL=.*|WEBHOOK_URL=|" \
	"$tmp/notify.conf"
run_notify alarm
rc=$?
check "no SMTP server: exit status 1 (rc $rc)" test "$rc" -eq 1
check "said, with the host only" grep -q \
	"mail to duty@example.com,night@example.com through 127.0.0.1:$closed_port failed (curl exit " \
	"$tmp/notify.alarm.log"
check "no SMTP password in the log" bash -c "! grep -q -e Sm7pS3cret -e mailer '$tmp/notify.alarm.log'"

echo "test_notify: $failures failure(s)"
[ "$failures" -eq 0 ]
