# shellcheck shell=bash
# Guest-side helpers of the product's end-to-end tests, sourced by each:
# product.sh (the .debs, with apt), rpm.sh (the .rpms, with rpm) and
# site.sh (the site-wide parts, with the .debs).
#
# Files from the host (run.sh): the packages in /usr/lib/vmtest/packages/.

PKGS=/usr/lib/vmtest/packages
CLASS=/sys/class/coldroom
BUS=org.coldroom.Sensors1
UNIT_IFACE=org.coldroom.Sensors1.Unit
KVER=$(uname -r)
failures=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
die() {
	echo "FAIL: $*"
	journalctl -b --no-pager -n 60 -u coldroomd -u systemd-udevd
	dmesg | tail -n 30
	echo "RESULT: stopped early"
	exit 1
}
# as_person USER PASSWORD COMMAND...: COMMAND as USER at a terminal, who
# types PASSWORD when polkit asks (as_person.py).
as_person() {
	python3 /usr/lib/vmtest/as_person.py "$@"
}
wait_for() { # wait_for SECONDS COMMAND...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
all_ready() {
	local d
	[ "$(ls "$CLASS" 2>/dev/null | wc -l)" -eq "$1" ] || return 1
	for d in "$CLASS"/sensor*; do
		[ "$(cat "$d/firmware_state")" = ready ] || return 1
	done
}
sensor_of() { # sensor_of SERIAL
	local d
	for d in "$CLASS"/sensor*; do
		[ "$(cat "$d/serial")" = "$1" ] && { basename "$d"; return 0; }
	done
	return 1
}
# The D-Bus object paths of the units, from the daemon's object tree.
unit_paths() {
	local p
	for p in $(busctl --system --list tree "$BUS" 2>/dev/null); do
		busctl --system introspect "$BUS" "$p" 2>/dev/null |
			grep -q "^$UNIT_IFACE " && echo "$p"
	done
}
# What the product may leave behind: the paths of the root file system,
# without the ones that change on their own, and without DKMS's own
# module-signing key pair, which it makes at its first build of any module
# and keeps when the modules go.
snapshot() {
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run \
		-o -path /tmp -o -path /var/tmp -o -path /var/log -o -path /var/cache \
		-o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/lib/systemd \
		-o -path /usr/lib/vmtest -o -path /home \) -prune -o -print |
		grep -vxE '/var/lib/dkms/mok\.(key|pub)' | sort
}

# The system has booted (or the test stops), then the first snapshot.
begin() {
	local state
	state=$(systemctl is-system-running --wait || true)
	[ "$state" = running ] || { systemctl --failed --no-pager; die "system state '$state'"; }
	snapshot >/tmp/before.list
}

# The .debs installed with apt as a user does, and DKMS's build checked.
install_debs() {
	local debs=("$PKGS"/coldroom-sensor_*.deb "$PKGS"/coldroom-sensor-dkms_*.deb)
	[ -f "${debs[0]}" ] && [ -f "${debs[1]}" ] || die "packages missing in $PKGS"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${debs[@]}" \
		>/tmp/apt-install.log 2>&1 || { cat /tmp/apt-install.log; die "apt-get install failed"; }
	pass "apt-get install ${debs[*]##*/}"
	check_modules_installed
}

# Only the daemon's .deb (and the DEBs named), with apt, and the modules as
# the host built them for this kernel (site.sh, cockpit.sh: the DKMS build,
# which product.sh and rpm.sh test, would add minutes of emulated compiling
# and test nothing new).
install_deb_with_modules() { # install_deb_with_modules [DEB...]
	local deb=("$PKGS"/coldroom-sensor_*.deb "$@") m
	for m in "${deb[@]}"; do
		[ -f "$m" ] || die "package $m missing in $PKGS"
	done
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${deb[@]}" \
		>/tmp/apt-install.log 2>&1 || { cat /tmp/apt-install.log; die "apt-get install failed"; }
	pass "apt-get install ${deb[*]##*/}"
	mkdir -p "/lib/modules/$KVER/extra"
	for m in coldroom coldroom_sim; do
		install -m 0644 "/usr/lib/vmtest/modules/$m.ko" "/lib/modules/$KVER/extra/" ||
			die "cannot install $m.ko"
	done
	depmod -a "$KVER" || die "depmod failed"
}

# What install_deb_with_modules installed, gone again.
remove_deb_with_modules() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y coldroom-sensor \
		>/tmp/apt-purge.log 2>&1 || { cat /tmp/apt-purge.log; fail "apt-get purge failed"; }
	rm -f "/lib/modules/$KVER/extra/coldroom.ko" "/lib/modules/$KVER/extra/coldroom_sim.ko"
	depmod -a "$KVER"
}

# DKMS built and installed both modules for the running kernel.
check_modules_installed() {
	local m
	check "dkms built and installed coldroom for $KVER" \
		bash -c "dkms status coldroom | grep -q '$KVER.*installed'"
	for m in coldroom coldroom_sim; do
		check "modinfo $m finds the DKMS build" \
			bash -c "modinfo -F filename $m | grep -q '/updates/dkms/'"
	done
}

# After the packages are removed: no module, DKMS tree, unit or file of
# theirs is left, and nothing else went with them.
check_all_removed() {
	local left gone
	check "dkms knows no coldroom" bash -c "[ -z \"\$(dkms status coldroom)\" ]"
	check "no coldroom module file for any kernel" \
		bash -c "[ -z \"\$(find /lib/modules -name 'coldroom*')\" ]"
	check "modinfo finds no coldroom" bash -c "! modinfo coldroom >/dev/null 2>&1"
	check "no DKMS tree or source left" \
		bash -c "[ ! -e /var/lib/dkms/coldroom ] && ! ls -d /usr/src/coldroom-* >/dev/null 2>&1"
	check "coldroomd.service is gone" bash -c "! systemctl cat coldroomd.service >/dev/null 2>&1"
	snapshot >/tmp/after.list
	# useradd/userdel of the test's users leave shadow-utils backups (/etc/*-).
	left=$(comm -13 /tmp/before.list /tmp/after.list | grep -vE '^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-$')
	check "no file left behind${left:+: $(echo $left)}" test -z "$left"
	gone=$(comm -23 /tmp/before.list /tmp/after.list)
	check "no file of the system removed${gone:+: $(echo $gone)}" test -z "$gone"
}

# The last checks and the verdict: the kernel log, then RESULT.
finish() {
	local bad
	bad=$(dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|soft lockup|UBSAN|KASAN' || true)
	check "kernel log clean${bad:+: $bad}" test -z "$bad"
	if [ "$failures" -ne 0 ]; then
		journalctl -b --no-pager -n 40 -u coldroomd
		echo "RESULT: $failures failure(s)"
		exit 1
	fi
	echo "RESULT: all passed"
}
