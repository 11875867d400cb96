#!/bin/bash
# Guest, under uml-run: the UML debug kernel runs with its checkers on, udev
# answers, the run's files arrived, and the root takes writes (its
# copy-on-write file).
set -euo pipefail

fail() { echo "FAIL: $*"; exit 1; }

kver=$(uname -r)
case "$kver" in 6.1.*-uml) ;; *) fail "not the UML debug kernel: $kver" ;; esac
[ "$(uname -m)" = x86_64 ] || fail "machine $(uname -m)"
echo "PASS: kernel $kver"

config=$(zcat /proc/config.gz)
for opt in CONFIG_KASAN CONFIG_PROVE_LOCKING CONFIG_UBSAN CONFIG_DEBUG_KMEMLEAK \
	CONFIG_DEBUG_ATOMIC_SLEEP CONFIG_DEBUG_OBJECTS CONFIG_MODULES CONFIG_HWMON; do
	grep -qx "$opt=y" <<<"$config" || fail "$opt is not set"
done
grep -Eq '^ *debug_locks: +1$' /proc/lockdep_stats || fail "lockdep is off"
[ -w /sys/kernel/debug/kmemleak ] || fail "no kmemleak"
echo "PASS: KASAN, lockdep (on), UBSAN, kmemleak, atomic-sleep and object checks"

udevadm control --ping || fail "udevd does not answer"
echo "PASS: udevd answers"

[ -x /usr/lib/vmtest/test ] || fail "the script is not at /usr/lib/vmtest/test"
! mountpoint -q /mnt || fail "the host's share is still mounted"
echo written >/var/tmp/uml-boot-ok
[ "$(cat /var/tmp/uml-boot-ok)" = written ] || fail "the root takes no writes"
echo "PASS: the run's files are in place, the share is gone, the root is writable"
