#!/bin/bash
# Host: the decisions "make check" and "make demo" take on a machine where
# nothing of the project's dependencies is installed yet. It stands in for
# a new Debian 12 machine the only way a machine that already has them
# can: MODULES_ROOT is an empty tree of kernel headers, and DEPS a fake
# "make deps" that installs headers into it (a kbuild Makefile that
# records what it was asked to build), as apt installs linux-headers-amd64.
# The build after deps must find and use those headers in the same make
# run, as on the first run on a real new machine, where a header search
# made when make started found nothing.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fresh-machine.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$top/tests/lib/checks.sh"

kver=6.1.0-99-fresh
modules=$work/modules
mkdir -p "$modules"
cat >"$work/fake-deps" <<FAKE
#!/bin/sh
# The fake "make deps": the headers of one kernel appear only now.
mkdir -p "$modules/$kver/build"
cat >"$modules/$kver/build/Makefile" <<'KBUILD'
# A stand-in for a kernel's kbuild: records the external module asked for.
modules clean:
	@echo "\$(MAKECMDGOALS) M=\$(M)" >>"\$(CURDIR)/kbuild-calls"
KBUILD
echo "fake deps: installed the headers of $kver"
FAKE
chmod +x "$work/fake-deps"

run_make() { # run_make LOG ARGS...
	local log=$1
	shift
	env -u KDIR MODULES_ROOT="$modules" make -C "$top" O="$work/out" DEPS="$work/fake-deps" "$@" \
		>"$log" 2>&1
}

# Before deps, a build of the driver fails and says what to do.
if run_make "$work/nodeps.log" driver; then
	fail "'make driver' without any kernel headers succeeded"
elif grep -q "no kernel headers in $modules: install linux-headers-amd64 (make deps) or pass KDIR=" \
	"$work/nodeps.log"; then
	pass "'make driver' without headers fails and names the package and KDIR="
else
	fail "'make driver' without headers failed without saying why:"
	tail -n 5 "$work/nodeps.log"
fi

# The first run: deps installs the headers, the build in the same run uses
# them. This is "make check" and "make demo"'s own first step.
if run_make "$work/fresh.log" fresh; then
	pass "'make fresh' (deps, then all) succeeds in one run on a machine without headers"
else
	fail "'make fresh' failed on a machine without headers:"
	tail -n 15 "$work/fresh.log"
fi
calls=$modules/$kver/build/kbuild-calls
if [ -f "$calls" ] && grep -qx "modules M=$top/driver" "$calls"; then
	pass "the driver was built against the headers deps installed ($kver)"
else
	fail "the driver was not built against $modules/$kver/build: $(cat "$calls" 2>/dev/null)"
fi
# The rule database, without running anything.
rules=$(make -C "$top" -pRrq : 2>/dev/null)
for target in check demo; do
	if grep -qx "$target: fresh" <<<"$rules"; then
		pass "'make $target' starts with 'fresh'"
	else
		fail "'make $target' does not start with 'fresh' (deps, then the build in a new make)"
	fi
done

# KDIR= still chooses the headers, over anything installed.
rm -f "$calls"
mkdir -p "$work/other"
cp "$modules/$kver/build/Makefile" "$work/other/Makefile"
if env -u KDIR MODULES_ROOT="$modules" make -C "$top" O="$work/out" KDIR="$work/other" driver \
	>"$work/kdir.log" 2>&1 && grep -qx "modules M=$top/driver" "$work/other/kbuild-calls" 2>/dev/null &&
	[ ! -f "$calls" ]; then
	pass "KDIR= chooses the headers"
else
	fail "KDIR= was not used:"
	tail -n 5 "$work/kdir.log"
fi

# The running kernel's headers win over newer ones.
mkdir -p "$modules/$(uname -r)/build" "$modules/9.9.9-newer/build"
cp "$modules/$kver/build/Makefile" "$modules/$(uname -r)/build/"
cp "$modules/$kver/build/Makefile" "$modules/9.9.9-newer/build/"
got=$(MODULES_ROOT=$modules "$top/scripts/find-kdir.sh")
if [ "$got" = "$modules/$(uname -r)/build" ]; then
	pass "the running kernel's headers are preferred"
else
	fail "find-kdir.sh chose $got, not the running kernel's headers"
fi
rm -rf "${modules:?}/$(uname -r)"
got=$(MODULES_ROOT=$modules "$top/scripts/find-kdir.sh")
if [ "$got" = "$modules/9.9.9-newer/build" ]; then
	pass "else the newest installed headers"
else
	fail "find-kdir.sh chose $got, not the newest headers"
fi

checks_done fresh-machine
