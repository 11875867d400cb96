# shellcheck shell=bash
# Guest-side helpers of the bulk path's VM tests, on top of the driver's
# (driver-lib.sh). crtest is the static checker built by run.sh.

. /usr/lib/vmtest/driver-lib.sh
CRTEST=/usr/lib/vmtest/crtest
DEV=/dev/coldroom
CRDBG=/sys/kernel/debug/coldroom

# crt ARGS...: run a crtest property; its "ok:" / "not ok:" lines become
# PASS / FAIL, and so does an exit status without them.
crt() {
	local out rc=0 line
	out=$(timeout 300 "$CRTEST" "$@" 2>&1) || rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok: "*) pass "crtest $1: ${line#ok: }" ;;
		"not ok: "*) fail "crtest $1: ${line#not ok: }" ;;
		*) echo "  $line" ;;
		esac
	done <<<"$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok: ' <<<"$out"; then
		fail "crtest $* exited with status $rc"
	fi
	return 0
}

# Links the test blobs for units 0..N-1 (even CRS-200, odd CRS-210T).
link_blobs() {
	mkdir -p "$FWDIR"
	python3 - "$1" "$BLOBS" "$FWDIR" <<'PY'
import os, sys
n, blobs, fwdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(n):
    model, blob = ("CRS-210T", "crs210t.fw") if i % 2 else ("CRS-200", "crs200.fw")
    path = f"{fwdir}/{model}-SIM-{i:06d}.fw"
    if not os.path.lexists(path):
        os.symlink(f"{blobs}/{blob}", path)
PY
}

all_ready() { [ "$(grep -lx ready "$CLASS"/sensor*/firmware_state 2>/dev/null | wc -l)" -eq "$1" ]; }

# up N [CORE-PARAMS...]: both modules with N units, all ready.
up() {
	local n=$1
	shift
	link_blobs "$n"
	load_core "$@"
	load_sim units="$n" door_interval_s=0
	wait_for 120 all_ready "$n" || die "$n units did not all become ready"
}

counter() { cat "$CRDBG/$1"; }
