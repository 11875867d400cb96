#!/bin/bash
# Guest: the booted system is healthy: systemd finished booting with no
# failed unit, udev and the system bus answer, the kernel is Debian's, and
# what DKMS needs to build modules for it is present.
set -euo pipefail

fail() { echo "FAIL: $*"; exit 1; }

state=$(systemctl is-system-running --wait || true)
[ "$state" = running ] || { systemctl --failed --no-pager; fail "system state '$state'"; }
echo "PASS: systemctl is-system-running: $state"

udevadm control --ping || fail "udevd does not answer"
echo "PASS: udevd answers"

id=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus GetId) || fail "the system bus does not answer"
echo "PASS: system bus answers ($id)"
busctl --system status org.freedesktop.systemd1 >/dev/null ||
	fail "systemd is not on the system bus"
echo "PASS: systemd is on the system bus"

grep -q 'Debian' /proc/version || fail "not a Debian kernel: $(cat /proc/version)"
kver=$(uname -r)
case "$kver" in 6.1.*-amd64) ;; *) fail "unexpected kernel $kver" ;; esac
[ -e "/lib/modules/$kver/build/Makefile" ] || fail "no headers for $kver"
for tool in dkms gcc make sensors modprobe; do
	command -v "$tool" >/dev/null || fail "$tool is missing in the guest"
done
echo "PASS: kernel $kver with headers, dkms, gcc, make, sensors"
