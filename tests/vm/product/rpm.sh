#!/bin/bash
# Guest: the rpm packages on a systemd machine, as far as a Debian guest
# allows. rpm -i --nodeps installs them (the guest's rpm database holds no
# package, so it knows none of their dependencies; Debian's packages provide
# them): %pre creates the groups, the dkms package's %post has DKMS build
# and install the modules for the running kernel, loading the simulator
# makes units appear, udev starts coldroomd, which serves their firmware
# and publishes them on D-Bus; rpm -e removes everything. What still differs
# from a Fedora host: packaging/README.md.
#
# Files from the host (run.sh): /usr/lib/vmtest/packages/*.rpm and
# /usr/lib/vmtest/product-lib.sh.
set -uo pipefail

. /usr/lib/vmtest/product-lib.sh

# rpm_log WHAT LOG COMMAND...: runs an rpm transaction into LOG and shows
# what rpm and the scriptlets said; a failed scriptlet fails the check even
# where rpm itself carries on.
rpm_log() {
	local what=$1 log=$2 rc
	shift 2
	"$@" >"$log" 2>&1
	rc=$?
	sed 's/^/    /' "$log"
	if [ "$rc" -eq 0 ] && ! grep -qi 'scriptlet failed' "$log"; then
		pass "$what"
		return 0
	fi
	fail "$what (exit status $rc)"
	return 1
}
# owned_by PACKAGE PATH...: each PATH is there and rpm says PACKAGE owns it.
owned_by() {
	local pkg=$1 p
	shift
	for p in "$@"; do
		[ -e "$p" ] || { echo "    missing: $p"; return 1; }
		[ "$(rpm -qf --qf '%{NAME}\n' "$p" 2>&1)" = "$pkg" ] ||
			{ echo "    not owned by $pkg: $p"; return 1; }
	done
}

# rpm's database where Fedora keeps it, for every rpm command, DKMS's own
# queries included (Debian's rpm keeps one per user in ~/.rpmdb). It is made
# before the first snapshot: its files are then in both, and only their
# contents change.
mkdir -p /etc/rpm
echo '%_dbpath /var/lib/rpm' >/etc/rpm/macros.dbpath
rpm --initdb || die "rpm --initdb failed"
[ "$(rpm -qa | wc -l)" -eq 0 ] || die "the rpm database is not empty: $(rpm -qa)"
# What Fedora's filesystem package gives every system, and the package's
# manual pages go in: Debian's image has no manual sections at all.
mkdir -p /usr/share/man/man1 /usr/share/man/man4 /usr/share/man/man8
begin
echo "== $(rpm --version), $(dkms --version), SELinux $([ -d /sys/fs/selinux ] && echo on || echo absent)"

echo "== install with rpm -i --nodeps"
rpms=("$PKGS"/coldroom-sensor-[0-9]*.x86_64.rpm "$PKGS"/coldroom-sensor-dkms-[0-9]*.noarch.rpm)
[ -f "${rpms[0]}" ] && [ -f "${rpms[1]}" ] || die "packages missing in $PKGS"
version=$(rpm -qp --qf '%{VERSION}' "${rpms[0]}" 2>/dev/null)
[ -n "$version" ] || die "rpm -qp cannot read ${rpms[0]}"
rpm_log "rpm -i --nodeps ${rpms[*]##*/}" /tmp/rpm-install.log rpm -i --nodeps "${rpms[@]}" ||
	die "rpm -i failed"
check "rpm -q knows both packages" rpm -q coldroom-sensor coldroom-sensor-dkms
check "rpm -V: the installed files are the packaged ones" \
	rpm -V --nodeps coldroom-sensor coldroom-sensor-dkms
check "%pre created the groups coldroom and coldroom-admin" getent group coldroom coldroom-admin
check "%post of the dkms package: DKMS added coldroom $version" \
	bash -c "dkms status coldroom/$version | grep -q ."
check_modules_installed
check "the files are where the spec puts them" owned_by coldroom-sensor \
	/usr/sbin/coldroomd /usr/bin/coldroomctl /usr/bin/coldroom-fwtool \
	/usr/lib/systemd/system/coldroomd.service /usr/lib/udev/rules.d/60-coldroom.rules \
	/usr/lib/sysusers.d/coldroom.conf /usr/share/dbus-1/system.d/$BUS.conf \
	/usr/share/dbus-1/interfaces/$BUS.xml /usr/lib/firmware/coldroom/CRS-200.fw \
	/usr/lib/firmware/coldroom/CRS-210T.fw /etc/coldroom/coldroomd.conf \
	/usr/share/man/man8/coldroomd.8.gz /usr/share/doc/coldroom-sensor/README.md
check "the DKMS source and the ABI header are the dkms package's" owned_by coldroom-sensor-dkms \
	/usr/src/coldroom-"$version"/dkms.conf /usr/include/linux/coldroom.h
fragment=$(systemctl show -p FragmentPath --value coldroomd.service)
check "systemd loads the packaged unit ($fragment)" \
	test "$fragment" -ef /usr/lib/systemd/system/coldroomd.service
check "coldroomd.service is static: %systemd_post enabled nothing" \
	test "$(systemctl is-enabled coldroomd.service 2>&1)" = static
check "the package did not start coldroomd (udev does)" \
	bash -c '! systemctl is-active --quiet coldroomd'

echo "== units appear, udev starts coldroomd"
modprobe coldroom_sim units=2 door_interval_s=0 || die "modprobe coldroom_sim units=2 failed"
check "udev started coldroomd" wait_for 60 systemctl is-active --quiet coldroomd
check "both units have firmware" wait_for 90 all_ready 2
for serial in SIM-000000 SIM-000001; do
	check "coldroomd served $serial from the packaged model firmware" \
		bash -c "journalctl -b -u coldroomd --no-pager -o cat | grep -q '$serial'"
done
coldroomctl list >/tmp/list.out 2>&1
cat /tmp/list.out
check "coldroomctl list shows the two units" \
	bash -c "grep -c -E 'SIM-00000[01]|sensor[01]' /tmp/list.out | grep -qx 2"
status=$(systemctl status coldroomd --no-pager -n 0)
rc=$?
echo "$status" | head -n 12
check "systemctl status coldroomd: active (exit status $rc)" \
	bash -c '[ "$1" -eq 0 ] && grep -q "Active: active (running)" <<<"$2"' - "$rc" "$status"
check "busctl: two unit objects on $BUS" test "$(unit_paths | grep -c .)" -eq 2
# polkit honours the package's rules for coldroom-admin, the group %pre made
# before the rules landed: a member sets with their password.
check "polkit has the product's actions" bash -c "pkaction | grep -qx org.coldroom.sensors.configure"
useradd -M -s /bin/sh -G coldroom-admin plantadmin || fail "useradd plantadmin"
echo "plantadmin:Plant-admin-4711" | chpasswd || fail "chpasswd plantadmin"
check "plantadmin (coldroom-admin) types the password: coldroomctl set works" \
	as_person plantadmin Plant-admin-4711 coldroomctl set sensor0 label=Freezer-B
check "plantadmin: the label reached sysfs" \
	wait_for 10 bash -c "[ \"\$(cat $CLASS/sensor0/label)\" = Freezer-B ]"
userdel plantadmin

echo "== rpm -e removes everything"
# coldroomd keeps /dev/coldroom open, which holds the module: stop it first,
# as an administrator unloading the driver would.
systemctl stop coldroomd || fail "systemctl stop coldroomd"
modprobe -r coldroom_sim coldroom || fail "modprobe -r coldroom_sim coldroom"
# Running again (with no unit), so that %preun has a service to stop.
systemctl start coldroomd || fail "systemctl start coldroomd"
check "coldroomd runs again, for %preun to stop" systemctl is-active --quiet coldroomd
rpm_log "rpm -e coldroom-sensor-dkms coldroom-sensor" /tmp/rpm-erase.log \
	rpm -e coldroom-sensor-dkms coldroom-sensor
check "%preun stopped coldroomd" bash -c '! systemctl is-active --quiet coldroomd'
check "rpm -q knows neither package" \
	bash -c '! rpm -q coldroom-sensor && ! rpm -q coldroom-sensor-dkms'
# rpm has no purge: the record, a legal one, stays until an administrator
# deletes it.
check "%preun stopped the recorder" bash -c '! systemctl is-active --quiet coldroom-recorder'
check "the record is kept after rpm -e" test -s /var/lib/coldroom/record.db
check "so is coldroomd's state directory (open alarms)" test -d /var/lib/coldroomd
rm -rf /var/lib/coldroom /var/lib/coldroomd
check_all_removed
# rpm removes no group either: files may still carry their ids.
getent group coldroom coldroom-admin | sed 's/^/kept (by policy): group /'
# dkms add --rpm_safe_upgrade leaves a lock for an upgrade in the same rpm
# transaction; an install alone leaves it in /tmp.
ls /tmp/dkms_rpm_safe_upgrade_lock.* 2>/dev/null | sed 's/^/kept (by dkms): /'

finish
