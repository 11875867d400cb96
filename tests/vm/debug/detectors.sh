#!/bin/bash
# Guest, on the debug kernel: its checkers are live, and the suites' own
# check (driver-lib.sh: kernel_reports, the taint and lockdep checks,
# kmemleak_suspects) catches what each one reports. Every control module
# (controls/) does one thing wrong when loaded: an AB-BA lock order
# (lockdep), a read past a kmalloc'd buffer (KASAN), an array index out of
# bounds (UBSAN), might_sleep() with preemption off (DEBUG_ATOMIC_SLEEP), a
# buffer nobody points to (kmemleak). A control that goes unreported fails.
set -uo pipefail
. /usr/lib/vmtest/driver-lib.sh

CONTROLS=/usr/lib/vmtest/controls

[ -w "$KMEMLEAK" ] && [ -r /proc/lockdep_stats ] ||
	die "not the debug kernel ($(uname -r)): no kmemleak or lockdep"
pass "the debug kernel $(uname -r) has kmemleak and lockdep"
check "the kernel log is clean before the controls" test -z "$(kernel_reports)"

# control NAME WHAT PATTERN...: loads control_NAME; the suites' check must
# find a report from then on, and it must match every PATTERN.
control() {
	local name=$1 what=$2 mark reports pattern
	shift 2
	mark=$(log_mark)
	insmod "$CONTROLS/control_$name.ko" || { fail "insmod control_$name"; return; }
	rmmod "control_$name" || fail "rmmod control_$name"
	reports=$(kernel_reports "$mark")
	if [ -z "$reports" ]; then
		fail "$what: the suites' check found no report of control_$name"
		dmesg | tail -n +"$mark" | head -n 40
		return
	fi
	for pattern in "$@"; do
		if ! grep -Eq -- "$pattern" <<<"$reports"; then
			fail "$what: the report lacks '$pattern'"
			echo "$reports" | head -n 60
			return
		fi
	done
	pass "$what: reported ($(grep -Em1 "$KERNEL_REPORTS" <<<"$reports" | sed 's/^\[[^]]*\] //'))"
}

control lockdep "lockdep sees the AB-BA order" \
	'possible circular locking dependency' 'control_a' 'control_b'
# Lockdep reports once and then turns itself off: the suites notice that
# too, even had the message been lost.
check "lockdep turned itself off after its report (the suites check for it)" \
	grep -Eq '^ *debug_locks: +0$' /proc/lockdep_stats
control kasan "KASAN sees the read past the buffer" \
	'BUG: KASAN: slab-out-of-bounds in control_kasan_init' 'Read of size 1'
control ubsan "UBSAN sees the index out of bounds" \
	'UBSAN: array-index-out-of-bounds' 'index 4 is out of range'
control atomic_sleep "DEBUG_ATOMIC_SLEEP sees might_sleep() in atomic context" \
	'BUG: sleeping function called from invalid context' 'control_atomic_sleep_init'
tainted=$(cat /proc/sys/kernel/tainted)
check "the reports tainted the kernel (W), which the suites check (tainted=$tainted)" \
	test $((tainted & KERNEL_BAD_TAINTS)) -ne 0

# kmemleak: the scan the suites force at their end finds the lost buffer
# (its contents name it: the module is gone, its addresses have no name).
insmod "$CONTROLS/control_kmemleak.ko" && rmmod control_kmemleak ||
	fail "loading control_kmemleak"
leaks=$(kmemleak_suspects)
if grep -q 'coldroom kmemlea' <<<"$leaks"; then
	pass "kmemleak: the forced scan finds the lost buffer ($(grep -c '^unreferenced object' <<<"$leaks") unreferenced)"
else
	fail "kmemleak: the forced scan did not find the lost buffer"
	echo "$leaks" | head -n 40
fi

# Not finish: the kernel log is meant to be full of reports here.
if [ "$failures" -ne 0 ]; then
	echo "RESULT: $failures failure(s)"
	exit 1
fi
echo "RESULT: all passed"
exit 0
