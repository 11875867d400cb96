#!/bin/bash
# Kernel-side checks that need more than kbuild:
#   check-kernel.sh checkpatch     checkpatch.pl --strict on every driver file
#   check-kernel.sh dkms KDIR      dkms add + build of the source tree, in a
#                                  private dkms tree (the system's is untouched)
# checkpatch.pl comes from Debian's linux-source-6.1 and is cached in
# $O/checkpatch.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
O=${O:-$top/build}

fail() { echo "driver: $*" >&2; exit 1; }

get_checkpatch() {
	local cache=$O/checkpatch tarball=/usr/src/linux-source-6.1.tar.xz
	[ -x "$cache/checkpatch.pl" ] && [ -f "$cache/spelling.txt" ] && return 0
	if [ ! -f "$tarball" ]; then
		[ "$(id -u)" -eq 0 ] || fail "checkpatch needs $tarball: apt-get install linux-source-6.1"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-source-6.1 >/dev/null ||
			fail "installing linux-source-6.1 failed"
	fi
	mkdir -p "$cache"
	tar -xJf "$tarball" -C "$cache" --strip-components=2 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
}

run_checkpatch() {
	get_checkpatch
	local files=() bad=0 f
	# The driver and its user-space ABI header.
	while IFS= read -r f; do files+=("$f"); done < <(
		cd "$top" && find driver include -name '*.[ch]' ! -name '*.mod.c' | sort)
	for f in "${files[@]}"; do
		if ! (cd "$top" && "$O/checkpatch/checkpatch.pl" --strict --no-tree \
			--quiet --show-types -f "$f"); then
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] || fail "checkpatch --strict found the problems above"
	echo "driver: checkpatch --strict clean (${#files[@]} files)"
}

run_dkms() {
	local kdir=${1:?KDIR} kver name version src tree
	command -v dkms >/dev/null || fail "dkms is missing: apt-get install dkms"
	case "$kdir" in
	*/lib/modules/*/build|*/lib/modules/*/build/) kver=$(basename "$(dirname "$kdir")") ;;
	*) kver=$(uname -r) ;;
	esac
	name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$top/dkms.conf")
	version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
	src=$O/driver/dkms/source
	tree=$O/driver/dkms/tree
	rm -rf "$src" "$tree"
	mkdir -p "$src/$name-$version" "$tree"
	# The same layout the -dkms packages install to /usr/src/<name>-<version>.
	(cd "$top" && find dkms.conf driver firmware/lib include \
		\( -name '*.[ch]' -o -name Kbuild -o -name Makefile -o -name dkms.conf \) \
		! -name '*.mod.c' -print0 |
		cpio --null -pdm --quiet "$src/$name-$version")
	dkms add -m "$name" -v "$version" --sourcetree "$src" --dkmstree "$tree" >/dev/null
	# A user's next compiler warns about something new (here: -Wpadded,
	# which the kernel's own headers trip): the build must still succeed.
	if ! KCFLAGS=-Wpadded dkms build -m "$name" -v "$version" -k "$kver" \
		--kernelsourcedir "$kdir" --sourcetree "$src" --dkmstree "$tree"; then
		cat "$tree/$name/$version/build/make.log" 2>/dev/null || true
		fail "dkms build failed (with a new warning, -Wpadded)"
	fi
	# (dkms keeps the log of a build that passed under <kver>/<arch>/log/.)
	grep -qs 'warning:.*-Wpadded' "$tree/$name/$version/$kver/"*/log/make.log ||
		fail "dkms build: the -Wpadded warning did not reach the compiler"
	for m in coldroom coldroom_sim; do
		ls "$tree/$name/$version/$kver/"*/module/$m.ko* >/dev/null 2>&1 ||
			fail "dkms built no $m.ko"
	done
	echo "driver: dkms build of $name-$version for $kver passed"
}

case "${1:-}" in
checkpatch) run_checkpatch ;;
dkms) run_dkms "${2:-}" ;;
*) echo "usage: $0 checkpatch | dkms KDIR" >&2; exit 2 ;;
esac
