# shellcheck shell=bash
# Guest-side helpers of the driver's VM tests (sourced by each test).
# Files the host runner copies in: modules/ and blobs/ next to this file.

VMT=/usr/lib/vmtest
MODULES=$VMT/modules
BLOBS=$VMT/blobs
CLASS=/sys/class/coldroom
SIMDRV=/sys/bus/platform/drivers/coldroom_sim
SIMDBG=/sys/kernel/debug/coldroom_sim
FWDIR=/lib/firmware/coldroom
ALLOCATED=/sys/kernel/debug/coldroom/allocated
failures=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; dmesg | tail -n 40; exit 1; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# allocated KIND: how many objects of KIND (sensors, readers, ...)
# coldroom.ko holds now.
allocated() { awk -v k="$1" '$1 == k {print $2}' "$ALLOCATED"; }
allocated_is() { [ "$(allocated "$1")" -eq "$2" ]; }
# none_allocated [KIND...]: no object of the KINDs (default: of any kind).
none_allocated() {
	awk -v kinds=" $* " '(kinds == "  " || index(kinds, " " $1 " ")) && $2 != 0 {n++}
		END {exit n > 0}' "$ALLOCATED"
}

# check_none_allocated WHEN [KIND...]: the leak check. coldroom.ko counts
# its own objects where it allocates and frees them (debugfs "allocated");
# once the units and readers are gone, every count is back to zero. The
# last reference to a unit may be dropped a moment after its removal
# returns, so give it a few seconds; a leak never comes back.
check_none_allocated() {
	local when=$1
	shift
	if wait_for 30 none_allocated "$@"; then
		pass "$when: coldroom.ko holds none of its ${*:-objects} ($(xargs <"$ALLOCATED"))"
	else
		fail "$when: coldroom.ko still holds objects: $(xargs <"$ALLOCATED")"
	fi
}

# slab_snapshot FILE: "cache active-objects object-size" per slab cache,
# after giving empty slabs back, so that pages the allocator keeps partly
# used after a mass free do not look like a leak. udevd may still be working
# through removed units' events, holding their sysfs files open: let it
# finish first, or their dentries and inodes look leaked.
slab_snapshot() {
	udevadm settle --timeout=180 2>/dev/null || true
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f" 2>/dev/null || true; done
	awk 'NR > 2 {print $1, $2, $4}' /proc/slabinfo | LC_ALL=C sort >"$1"
}

# slab_growth BEFORE AFTER: "cache objects bytes" gained between two
# snapshots, largest first; the last line is "total OBJECTS BYTES" over
# the caches that grew. The whole guest's slab moves with udev, journald
# and the dentry caches: a figure to report, never a leak verdict.
slab_growth() {
	LC_ALL=C join "$1" "$2" |
		awk '{d = $4 - $2; if (d > 0) print $1, d, d * $3}' | sort -k3,3nr
	LC_ALL=C join "$1" "$2" |
		awk '{d = $4 - $2; if (d > 0) {o += d; b += d * $3}} END {print "total", o + 0, b + 0}'
}

attr() { cat "$CLASS/$1/$2"; }
attr_is() { [ "$(cat "$CLASS/$1/$2" 2>/dev/null)" = "$3" ]; }
attr_ge() { [ "$(cat "$CLASS/$1/$2" 2>/dev/null)" -ge "$3" ]; }
state_is() { [ "$(cat "$CLASS/$1/firmware_state" 2>/dev/null)" = "$2" ]; }

# sensor_of SERIAL: the sensorN directory name of a unit.
sensor_of() {
	local d
	for d in "$CLASS"/sensor*; do
		[ "$(cat "$d/serial")" = "$1" ] && { basename "$d"; return 0; }
	done
	return 1
}

fallback_dir() { # fallback_dir SENSOR
	local name
	name=$(attr "$1" firmware_name)
	echo "/sys/class/firmware/${name//\//!}"
}

# serve SENSOR BLOB: the sysfs fallback dance, as coldroomd does it.
serve() {
	local dir
	dir=$(fallback_dir "$1")
	wait_for 20 test -e "$dir/loading" || { echo "no fallback $dir"; return 1; }
	echo 1 >"$dir/loading"
	cat "$2" >"$dir/data"
	echo 0 >"$dir/loading"
}

load_core() { insmod "$MODULES/coldroom.ko" "$@"; }
load_sim() { insmod "$MODULES/coldroom_sim.ko" "$@"; }
# fallbacks: the coldroom firmware requests waiting on the sysfs fallback.
fallbacks() { ls /sys/class/firmware 2>/dev/null | grep '^coldroom!' || true; }
# abort_fallbacks, once coldroom_sim is gone: ends every request still
# waiting (as coldroomd does for those no unit waits for), until none holds
# coldroom.ko. A request issued just before its unit went may create its
# fallback a moment later: look again until the module is free.
abort_fallbacks() {
	local f i
	for i in $(seq 100); do
		for f in $(fallbacks); do
			echo -1 >"/sys/class/firmware/$f/loading" 2>/dev/null || true
		done
		[ -z "$(fallbacks)" ] && [ "$(cat /sys/module/coldroom/refcnt 2>/dev/null || echo 0)" -eq 0 ] &&
			return 0
		sleep 0.2
	done
	echo "abort_fallbacks: coldroom.ko still held: $(fallbacks)"
	return 1
}
unload_all() {
	if [ -d /sys/module/coldroom_sim ]; then rmmod coldroom_sim; fi
	abort_fallbacks
	if [ -d /sys/module/coldroom ]; then rmmod coldroom; fi
}

# expect_einval FILE VALUE: the write fails with EINVAL, the file keeps its value.
expect_einval() {
	local file=$1 value=$2 before after err
	before=$(cat "$file" 2>/dev/null || echo "<unreadable>")
	if err=$( { printf '%s' "$value" >"$file"; } 2>&1); then
		fail "writing '$value' to ${file#/sys/class/coldroom/} was accepted"
		return
	fi
	after=$(cat "$file" 2>/dev/null || echo "<unreadable>")
	case "$err" in
	*"Invalid argument"*) ;;
	*) fail "writing '$value' to $file: '$err', expected EINVAL"; return ;;
	esac
	if [ "$before" != "$after" ]; then
		fail "bad write '$value' changed $file: '$before' -> '$after'"
		return
	fi
	pass "EINVAL, unchanged: '$(printf '%q' "$value")' > ${file#/sys/}"
}

# What the kernel's checkers print, any of which fails a suite: oopses and
# warnings (lockdep's reports are WARNINGs too: circular or recursive
# locking, inconsistent lock state, suspicious RCU usage), lockups, KASAN,
# UBSAN, sleeping in atomic context ("BUG: sleeping function"), debug
# objects, list corruption, kmemleak's note of new suspects, and
# coldroom.ko's own leak report. The debug kernel's negative controls
# (tests/vm/debug/detectors.sh) prove that this catches each checker.
KERNEL_REPORTS='BUG:|WARNING:|Oops|general protection|soft lockup|hard LOCKUP|blocked for more than|rcu: INFO|suspicious RCU usage|refcount_t:|list_(add|del) corruption|kernfs: can not|UBSAN:|KASAN|ODEBUG:|kmemleak: [0-9]+ new suspected|coldroom: leak:'
# Taints a checker leaves even when its message was lost: B (bad page),
# D (an oops), W (a warning), L (a soft lockup).
KERNEL_BAD_TAINTS=$(((1 << 5) | (1 << 7) | (1 << 9) | (1 << 14)))
KMEMLEAK=/sys/kernel/debug/kmemleak

# log_mark: where the kernel log goes on from, for kernel_reports.
log_mark() { echo $(($(dmesg | wc -l) + 1)); }

# kernel_reports [FROM]: the checkers' reports in the kernel log from line
# FROM (default: the whole log), each with the lines that follow it.
kernel_reports() {
	dmesg | tail -n +"${1:-1}" | { grep -E -A 30 "$KERNEL_REPORTS" || true; } | head -n 400
}

# kmemleak_baseline: on the debug kernel, a scan now and its suspects set
# aside (kmemleak's "clear"), so that the scan at the end reports only
# what leaked after it. Runs when this file is sourced.
kmemleak_baseline() {
	[ -w "$KMEMLEAK" ] || return 0
	echo scan >"$KMEMLEAK"
	echo clear >"$KMEMLEAK"
}

# kmemleak_suspects: on the debug kernel, forced scans and the
# unreferenced objects they find (empty when none). kmemleak reports an
# object once it is 5 s old: let the last frees of the test settle. A
# second scan: the first may still find the last pointer to a lost object
# in memory that nothing has reused yet (on UML, the uniprocessor kernel,
# a freed stack or a saved register of the process that lost it).
kmemleak_suspects() {
	[ -w "$KMEMLEAK" ] || return 0
	sleep 6
	echo scan >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
	cat "$KMEMLEAK"
}

# The kernel log must show no checker's report, the kernel no bad taint;
# on the debug kernel, lockdep must still be on (it turns itself off after
# its first report) and a forced kmemleak scan must find no leak.
check_dmesg_clean() {
	local bad tainted leaks
	bad=$(kernel_reports)
	if [ -n "$bad" ]; then
		fail "kernel log has problems:"
		echo "$bad"
	else
		pass "kernel log: no oops, warning, lockup, corruption or checker report"
	fi
	tainted=$(cat /proc/sys/kernel/tainted)
	check "kernel not tainted by a warning, oops, bad page or lockup (tainted=$tainted)" \
		test $((tainted & KERNEL_BAD_TAINTS)) -eq 0
	if [ -r /proc/lockdep_stats ]; then
		check "lockdep still on (no lock report turned it off)" \
			grep -Eq '^ *debug_locks: +1$' /proc/lockdep_stats
	fi
	if [ -w "$KMEMLEAK" ]; then
		leaks=$(kmemleak_suspects)
		if [ -n "$leaks" ]; then
			fail "kmemleak: unreferenced objects after a forced scan:"
			echo "$leaks" | head -n 200
		else
			pass "kmemleak: no unreferenced object after a forced scan"
		fi
	fi
}

finish() {
	check_dmesg_clean
	if [ "$failures" -ne 0 ]; then
		echo "RESULT: $failures failure(s)"
		exit 1
	fi
	echo "RESULT: all passed"
	exit 0
}

kmemleak_baseline
