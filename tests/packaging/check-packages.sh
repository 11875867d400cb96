#!/bin/bash
# Checks the built packages from the outside, as a distribution would:
# file lists (dpkg-deb -c, rpm -qlp), control data and maintainer scripts
# (dpkg-deb -I/-e, rpm -qp --scripts/--requires), that the DKMS source tree
# a package ships builds on its own (dkms build in a private tree), and the
# linters (lintian, rpmlint: 0 errors).
#
#   check-packages.sh [PACKAGES_DIR]      default: $O/packages
#
# KDIR: headers for the DKMS build (default: scripts/find-kdir.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$top/build}
pkgs=${1:-$O/packages}
version=$("$top/packaging/version.sh") || exit 1
work=$O/tests/packaging
failures=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# has LIST PATTERN...: every extended regex matches a line of LIST.
has() {
	local list=$1 p
	shift
	for p in "$@"; do
		grep -qE "$p" <<<"$list" || { echo "    missing: $p"; return 1; }
	done
}
lacks() {
	local list=$1 p
	shift
	for p in "$@"; do
		! grep -E "$p" <<<"$list" || { echo "    unexpected: $p"; return 1; }
	done
}
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

deb=$pkgs/coldroom-sensor_${version}_amd64.deb
deb_dkms=$pkgs/coldroom-sensor-dkms_${version}_all.deb
deb_cockpit=$pkgs/coldroom-sensor-cockpit_${version}_all.deb
rpm=$(ls "$pkgs"/coldroom-sensor-"$version"-*.x86_64.rpm 2>/dev/null | head -n 1)
rpm_dkms=$(ls "$pkgs"/coldroom-sensor-dkms-"$version"-*.noarch.rpm 2>/dev/null | head -n 1)
rpm_cockpit=$(ls "$pkgs"/coldroom-sensor-cockpit-"$version"-*.noarch.rpm 2>/dev/null | head -n 1)
for f in "$deb" "$deb_dkms" "$deb_cockpit" "$rpm" "$rpm_dkms" "$rpm_cockpit"; do
	[ -f "$f" ] || { echo "packaging: missing package ${f:-(rpm)} in $pkgs: make deb rpm" >&2; exit 1; }
done
rm -rf "$work"
mkdir -p "$work"

user_files=(
	'/usr/sbin/coldroomd$' '/usr/sbin/coldroom-recorder$' '/usr/bin/coldroomctl$' '/usr/bin/coldroom-fwtool$'
	'/usr/lib/firmware/coldroom/CRS-200\.fw$' '/usr/lib/firmware/coldroom/CRS-210T\.fw$'
	'/systemd/system/coldroomd\.service$' '/systemd/system/coldroom-recorder\.service$' '/udev/rules\.d/60-coldroom\.rules$'
	'/usr/lib/sysusers\.d/coldroom\.conf$' '/usr/share/dbus-1/system\.d/org\.coldroom\.Sensors1\.conf$'
	'/usr/share/dbus-1/interfaces/org\.coldroom\.Sensors1.*\.xml$'
	'^/usr/share/polkit-1/actions/org\.coldroom\.sensors\.policy$'
	'^/usr/share/polkit-1/rules\.d/49-coldroom-sensor\.rules$'
	'/man1/coldroomctl\.1' '/man1/coldroom-fwtool\.1' '/man4/coldroom\.4' '/man8/coldroomd\.8'
	'/man8/coldroom-recorder\.8'
	'^/usr/share/coldroom-sensor/mixin/coldroom\.rules\.yml$' '^/usr/share/coldroom-sensor/mixin/coldroom-overview\.json$'
	'^/etc/coldroom/coldroomd\.conf\.d/?$' '^/etc/coldroom/uplink\.conf\.d/?$'
)
dkms_files=(
	"/usr/src/coldroom-$version/dkms\.conf$" "/usr/src/coldroom-$version/driver/Kbuild$"
	"/usr/src/coldroom-$version/driver/Makefile$" "/usr/src/coldroom-$version/driver/core\.c$"
	"/usr/src/coldroom-$version/driver/sim/sim\.c$" "/usr/src/coldroom-$version/firmware/lib/coldroom_fw\.c$"
)
cockpit_files=('^/usr/share/cockpit/coldroom/manifest\.json$' '^/usr/share/cockpit/coldroom/index\.html$'
	'^/usr/share/cockpit/coldroom/coldroom\.js$' '^/usr/share/cockpit/coldroom/coldroom\.css$')
build_outputs=('\.o$' '\.ko$' '\.mod\.c$' '\.cmd$' 'Module\.symvers$' 'modules\.order$')

echo "== deb: $(basename "$deb")"
list=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||')
check "coldroom-sensor.deb holds the user-space files" has "$list" "${user_files[@]}"
check "coldroom-sensor.deb: units and rules under /lib (Debian 12)" \
	has "$list" '^/lib/systemd/system/coldroomd\.service$' '^/lib/udev/rules\.d/60-coldroom\.rules$'
check "coldroom-sensor.deb holds no module source" lacks "$list" '^/usr/src/'
ctl=$work/deb-control
dpkg-deb -e "$deb" "$ctl"
check "coldroom-sensor.deb depends on a system bus and sysusers" \
	has "$(cat "$ctl/control")" '^Depends:.*dbus-system-bus' '^Depends:.*systemd-sysusers'
check "postinst creates the groups, reloads the bus policy and udev rules" \
	has "$(cat "$ctl/postinst")" 'systemd-sysusers .*coldroom\.conf' 'ReloadConfig' \
	'udevadm control --reload-rules' 'udevadm trigger --action=add --subsystem-match=coldroom' \
	"try-restart .*'coldroomd\.service'" "try-restart .*'coldroom-recorder\.service'"
check "postinst creates the groups before it reloads the bus" \
	bash -c "[ \$(grep -n systemd-sysusers '$ctl/postinst' | cut -d: -f1 | head -1) -lt \$(grep -n ReloadConfig '$ctl/postinst' | cut -d: -f1 | head -1) ]"
check "notify.conf (webhook tokens) is shipped 0640" \
	has "$(dpkg-deb -c "$deb")" '^-rw-r----- .* \./etc/coldroom/notify\.conf$'
check "postinst gives notify.conf to root:coldroom-notify 0640" \
	has "$(cat "$ctl/postinst")" 'chown root:coldroom-notify .*notify\.conf' 'chmod 0640 .*notify\.conf'
check "coldroom-notify's curl (mail, webhooks) is recommended" has "$(cat "$ctl/control")" \
	'^Recommends:.*curl'
check "preinst creates the user coldroom-notify" has "$(cat "$ctl/preinst")" '^u coldroom-notify '
check "prerm stops coldroomd on removal" has "$(cat "$ctl/prerm")" 'deb-systemd-invoke stop coldroomd\.service'
check "postrm reloads udev rules" has "$(cat "$ctl/postrm")" 'udevadm control --reload-rules'
check "coldroom-sensor.deb runs no DKMS" lacks "$(cat "$ctl"/p*)" 'dkms'

echo "== deb: $(basename "$deb_dkms")"
list=$(dpkg-deb -c "$deb_dkms" | awk '{print $6}' | sed 's|^\.||')
check "coldroom-sensor-dkms.deb holds the DKMS source tree" has "$list" "${dkms_files[@]}"
check "coldroom-sensor-dkms.deb holds no build output" lacks "$list" "${build_outputs[@]}"
ctl=$work/deb-dkms-control
dpkg-deb -e "$deb_dkms" "$ctl"
check "coldroom-sensor-dkms.deb depends on dkms" has "$(cat "$ctl/control")" '^Depends:.*dkms'
check "postinst adds, builds and installs through DKMS" \
	has "$(cat "$ctl/postinst")" 'DKMS_NAME=coldroom$' "DKMS_VERSION=$version\$" 'common\.postinst'
check "prerm removes the module from every kernel" \
	has "$(cat "$ctl/prerm")" 'dkms remove -m \$DKMS_NAME -v \$DKMS_VERSION --all'

echo "== the DKMS tree builds on its own"
tree=$work/dkms-src
dpkg-deb -x "$deb_dkms" "$tree"
src=$tree/usr/src/coldroom-$version
check "dkms.conf names coldroom $version" \
	has "$(cat "$src/dkms.conf")" '^PACKAGE_NAME="?coldroom"?$' "^PACKAGE_VERSION=\"?$version\"?\$" \
	'BUILT_MODULE_NAME\[0\]="?coldroom"?' 'BUILT_MODULE_NAME\[1\]="?coldroom_sim"?' '^AUTOINSTALL="?yes"?'
KDIR=${KDIR:-$("$top/scripts/find-kdir.sh" 2>/dev/null)}
if [ -z "$KDIR" ] || ! command -v dkms >/dev/null; then
	fail "no kernel headers or no dkms here: cannot build the DKMS tree"
else
	kver=$(basename "$(dirname "$KDIR")")
	dtree=$work/dkms-tree
	mkdir -p "$dtree"
	if dkms add -m coldroom -v "$version" --sourcetree "$tree/usr/src" --dkmstree "$dtree" >/dev/null &&
		dkms build -m coldroom -v "$version" -k "$kver" --kernelsourcedir "$KDIR" \
			--sourcetree "$tree/usr/src" --dkmstree "$dtree" >"$work/dkms-build.log" 2>&1 &&
		ls "$dtree/coldroom/$version/$kver/"*/module/coldroom.ko* >/dev/null 2>&1 &&
		ls "$dtree/coldroom/$version/$kver/"*/module/coldroom_sim.ko* >/dev/null 2>&1; then
		pass "dkms build of the packaged tree for $kver: coldroom.ko, coldroom_sim.ko"
	else
		cat "$dtree/coldroom/$version/build/make.log" 2>/dev/null | tail -n 20
		fail "dkms build of the packaged tree for $kver"
	fi
fi

echo "== rpm: $(basename "$rpm")"
list=$(rpm -qlp "$rpm" 2>/dev/null)
check "coldroom-sensor.rpm holds the user-space files" has "$list" "${user_files[@]}"
check "coldroom-sensor.rpm: Fedora paths" \
	has "$list" '^/usr/lib/systemd/system/coldroomd\.service$' '^/usr/lib/udev/rules\.d/60-coldroom\.rules$'
check "coldroom-sensor.rpm holds no module source" lacks "$list" '^/usr/src/'
scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
check "rpm %pre creates the groups" has "$(sed -n '/^preinstall/,/^postinstall/p' <<<"$scripts")" \
	'systemd-sysusers' '^g coldroom ' '^g coldroom-admin '
# rpm -qlv cuts owner and group to 8 characters: ask for them in full.
check "rpm: notify.conf (webhook tokens) is 0640 root:coldroom-notify" \
	has "$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' \
		"$rpm" 2>/dev/null)" '^-rw-r----- root:coldroom-notify /etc/coldroom/notify\.conf$'
check "rpm: coldroom-notify's curl is recommended" \
	has "$(rpm -qp --recommends "$rpm" 2>/dev/null)" '^curl$'
check "rpm %pre creates the user coldroom-notify" \
	has "$(sed -n '/^preinstall/,/^postinstall/p' <<<"$scripts")" '^u coldroom-notify '
check "rpm %post: systemd_post, udev reload" has "$(sed -n '/^postinstall/,/^preuninstall/p' <<<"$scripts")" \
	'coldroomd\.service' 'udevadm control --reload'
check "rpm %preun: systemd_preun stops and disables on erase" \
	has "$(sed -n '/^preuninstall/,/^postuninstall/p' <<<"$scripts")" 'coldroomd\.service' '(disable --now|stop|preun)'
check "rpm %postun: restart on upgrade, udev reload" has "$(sed -n '/^postuninstall/,$p' <<<"$scripts")" \
	'(try-restart|restart).*coldroomd\.service|coldroomd\.service' 'udevadm control --reload'

echo "== rpm: $(basename "$rpm_dkms")"
list=$(rpm -qlp "$rpm_dkms" 2>/dev/null)
check "coldroom-sensor-dkms.rpm holds the DKMS source tree" has "$list" "${dkms_files[@]}"
check "coldroom-sensor-dkms.rpm holds no build output" lacks "$list" "${build_outputs[@]}"
deb_src=$(dpkg-deb -c "$deb_dkms" | awk '{print $6}' | sed 's|^\.||; s|/$||' | grep '^/usr/src/coldroom-' | sort)
rpm_src=$(grep '^/usr/src/coldroom-' <<<"$list" | sort)
check "the rpm and deb DKMS trees are the same files" test "$deb_src" = "$rpm_src"
check "coldroom-sensor-dkms.rpm requires dkms and kernel-devel" \
	has "$(rpm -qp --requires "$rpm_dkms" 2>/dev/null)" '^dkms' '^kernel-devel'
scripts=$(rpm -qp --scripts "$rpm_dkms" 2>/dev/null)
check "rpm dkms %post adds and installs, %preun removes everywhere" has "$scripts" \
	"dkms add -m coldroom -v $version" "dkms install -m coldroom -v $version" \
	"dkms remove -m coldroom -v $version --all"

echo "== the Cockpit page: $(basename "$deb_cockpit"), $(basename "$rpm_cockpit")"
list=$(dpkg-deb -c "$deb_cockpit" | awk '{print $6}' | sed 's|^\.||')
check "coldroom-sensor-cockpit.deb holds the page" has "$list" "${cockpit_files[@]}"
check "coldroom-sensor-cockpit.deb holds nothing else" lacks "$list" '^/usr/(s?bin|lib)/' '^/etc/'
check "coldroom-sensor-cockpit.deb: all architectures, needs cockpit-bridge and this version's daemon" \
	has "$(dpkg-deb -f "$deb_cockpit")" '^Architecture: all$' '^Depends:.*cockpit-bridge' \
	"^Depends:.*coldroom-sensor \\(= $version\\)"
list=$(rpm -qlp "$rpm_cockpit" 2>/dev/null)
check "coldroom-sensor-cockpit.rpm holds the page" has "$list" "${cockpit_files[@]}"
check "coldroom-sensor-cockpit.rpm needs cockpit-bridge and this version's daemon" \
	has "$(rpm -qp --requires "$rpm_cockpit" 2>/dev/null)" '^cockpit-bridge$' "^coldroom-sensor = $version-"
check "the page's manifest is JSON" bash -c \
	"dpkg-deb --fsys-tarfile '$deb_cockpit' | tar -xO ./usr/share/cockpit/coldroom/manifest.json | python3 -m json.tool >/dev/null"

echo "== linters"
check "lintian: 0 errors" make -s -C "$top/packaging/deb" O="$O" lint
check "rpmlint: 0 errors" make -s -C "$top/packaging/rpm" O="$O" lint

if [ "$failures" -ne 0 ]; then
	echo "packaging: $failures check(s) failed"
	exit 1
fi
echo "packaging: all checks passed"
