#!/bin/sh
# Installs what coldroom-sensor's build and tests need. Idempotent, and quick
# when everything is already there: it asks the package manager only for
# what is missing.
set -eu

debian_packages="build-essential pkg-config git libsystemd-dev libmnl-dev libcmocka-dev libcairo2-dev
	libsqlite3-dev sqlite3 nettle-dev poppler-utils
	libmosquitto-dev mosquitto mosquitto-clients libmicrohttpd-dev libjson-c-dev libssl-dev curl openssl prometheus
	prometheus-node-exporter
	clang libclang-rt-14-dev sparse linux-headers-amd64 dkms kmod
	qemu-system-x86 debootstrap cpio e2fsprogs dbus systemd systemd-journal-remote
	debhelper dh-dkms devscripts fakeroot dpkg-dev lintian rpm rpmlint
	libxml2-utils groff-base python3-minimal python3-yaml chromium chromium-driver python3-selenium
	linux-source-6.1 xz-utils bc flex bison libelf-dev patch"

fedora_packages="gcc make pkgconf-pkg-config git systemd-devel libmnl-devel libcmocka-devel cairo-devel
	sqlite-devel sqlite nettle-devel poppler-utils
	mosquitto-devel mosquitto libmicrohttpd-devel json-c-devel openssl-devel curl openssl golang-github-prometheus python3-pyyaml
	clang compiler-rt sparse kernel-devel dkms kmod qemu-system-x86
	debootstrap cpio dbus-daemon systemd-journal-remote rpm-build rpmlint dpkg-dev debhelper
	chromium chromedriver python3-selenium"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if command -v apt-get >/dev/null 2>&1; then
	missing=
	for p in $debian_packages; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		echo "deps: everything is installed"
		exit 0
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	as_root apt-get update -q
	# shellcheck disable=SC2086
	as_root apt-get install -y -q --no-install-recommends $missing
elif command -v dnf >/dev/null 2>&1; then
	missing=
	for p in $fedora_packages; do
		rpm -q --whatprovides "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		echo "deps: everything is installed"
		exit 0
	fi
	echo "deps: installing$missing"
	# shellcheck disable=SC2086
	as_root dnf install -y $missing
else
	echo "deps: no apt-get or dnf here; install by hand: $debian_packages" >&2
	exit 1
fi
