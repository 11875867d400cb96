#!/bin/bash
# Builds (once) the debug kernel of the VM harness: Debian's own 6.1 source
# (linux-source-6.1, the series of the guest's stock kernel) configured for
# the QEMU guest only, with lockdep, KASAN, UBSAN, kmemleak and object
# debugging (tests/vm/debug-kernel.config says what and why). The result is
# a cache entry "debug-kernel" (tests/vm/cache.sh) keyed by the source
# package's version, the config fragment and this script; a warm cache
# makes this a no-op. Prints the entry directory on stdout; it holds
#
#   vmlinuz         the bzImage, for vm-run --kernel DIR
#   kernel-version  its release (make kernelrelease)
#   config          its .config
#   kbuild/         the tree to build external modules against:
#                   make -C DIR/kbuild M=... modules
#   guest.cpio      the same tree as /usr/src/linux-headers-KVER and
#                   /lib/modules/KVER for the guest (modules.builtin,
#                   build -> the headers), which vm-run gives the guest
#                   as a disk to unpack at boot: what the stock image has
#                   for its kernel
#
# Needs the Debian packages in $PACKAGES (it installs nothing) and no root.
# The build takes long on a small machine (tens of minutes on 2 cores).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FRAGMENT=$VM_DIR/debug-kernel.config
SOURCE_PACKAGE=linux-source-6.1
TARBALL=/usr/src/$SOURCE_PACKAGE.tar.xz
# What the build uses: the source; tar's xz; the compiler; bc (timeconst),
# flex and bison (Kconfig), libelf-dev (objtool, for the ORC unwinder);
# kmod (depmod, modinfo) and cpio for the guest's part. No libssl-dev: no
# module signing and no trusted keys; no dwarves: no BTF.
PACKAGES="$SOURCE_PACKAGE xz-utils make gcc libc6-dev bc flex bison libelf-dev kmod cpio"

# missing_packages PACKAGE...: prints those that are not installed.
missing_packages() {
	local p
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" = "ii " ] || echo "$p"
	done
}

need_packages() {
	local missing
	missing=$(missing_packages "$@" | xargs)
	[ -z "$missing" ] ||
		die "missing Debian packages: $missing (apt-get install $missing)"
}

# The version of the source keys the kernel: a new Debian upload (a
# security fix) makes a new kernel.
need_packages "$SOURCE_PACKAGE"
source_version=$(dpkg-query -W -f='${Version}' "$SOURCE_PACKAGE")
key=$({
	echo "source $SOURCE_PACKAGE $source_version"
	cat "$FRAGMENT" "$VM_DIR/mkdebugkernel.sh"
} | sha256sum | cut -d' ' -f1)
if entry=$(cache_get debug-kernel "$key"); then
	echo "$entry"
	exit 0
fi

need_packages $PACKAGES
[ -f "$TARBALL" ] || die "$TARBALL is missing: reinstall $SOURCE_PACKAGE"

cache_lock debug-kernel
# Another run may have built it while this one waited for the lock.
if entry=$(cache_get debug-kernel "$key"); then
	echo "$entry"
	exit 0
fi

work=$VM_WORK/debug-kernel
out=$VM_WORK/debug-kernel.tmp
tree=$work/linux-source-6.1
build_log=$work/build.log
rm -rf "$work" "$out"
mkdir -p "$work" "$out"
# kmake ARG...: make in the tree. LOCALVERSION= keeps kbuild from adding
# a "+" to the release; the build user and host are fixed so that the
# banner names no machine.
kmake() {
	make -C "$tree" LOCALVERSION= KBUILD_BUILD_USER=coldroom \
		KBUILD_BUILD_HOST=coldroom-vm "$@"
}
# fail WHAT: the end of the build log, then the error.
fail() {
	tail -n 40 "$build_log" >&2
	die "$1 (log: $build_log)"
}

started=$SECONDS
log "unpacking $SOURCE_PACKAGE $source_version into $work"
tar -xf "$TARBALL" -C "$work"
[ -f "$tree/Makefile" ] || die "$TARBALL does not hold linux-source-6.1/"

log "configuring: tinyconfig + $(basename "$FRAGMENT")"
{
	kmake tinyconfig &&
		(cd "$tree" && scripts/kconfig/merge_config.sh -m .config "$FRAGMENT") &&
		kmake olddefconfig
} >"$build_log" 2>&1 || fail "configuring the kernel failed"
# Kconfig drops, and olddefconfig does not complain about, what it cannot
# satisfy: every line of the fragment must be in the result as written.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" "$tree/.config" && continue
		got=$(grep -E "^(# )?${line%%=*}[= ]" "$tree/.config" || echo "absent")
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		got=$(grep -E "^$sym=" "$tree/.config") || continue
		;;
	*) continue ;;
	esac
	log "config: wanted '$line', got '$got'"
	bad=$((bad + 1))
done < <(sed 's/[[:space:]]*$//' "$FRAGMENT")
[ "$bad" -eq 0 ] ||
	die "$bad settings of $(basename "$FRAGMENT") did not survive Kconfig (a missing dependency?)"

log "building bzImage with $(nproc) jobs (log: $build_log)"
built=$SECONDS
# "modules" as well: there is no module in the tree, but it is the step
# that writes Module.symvers, which external modules link against.
kmake -j"$(nproc)" bzImage modules >>"$build_log" 2>&1 || fail "building the kernel failed"
kver=$(kmake -s kernelrelease)
log "kernel $kver built in $((SECONDS - built)) s"
[ -s "$tree/Module.symvers" ] || fail "the build wrote no Module.symvers"

cp "$tree/arch/x86/boot/bzImage" "$out/vmlinuz"
echo "$kver" >"$out/kernel-version"
cp "$tree/.config" "$out/config"

# The tree external modules need, as Debian's linux-headers packages and
# the kernel's own scripts/package/builddeb make it: the Makefiles, the
# include and scripts trees with the host tools built in them, the
# generated headers, objtool, .config and Module.symvers. Relocatable: the
# top Makefile finds the tree from its own path.
log "making the module build tree"
kbuild=$out/kbuild
mkdir -p "$kbuild"
(
	cd "$tree"
	{
		find . arch/x86 -maxdepth 1 -name 'Makefile*'
		find include scripts -type f -o -type l
		find arch/x86 -name Kbuild.platforms -o -name Platform
		find $(find arch/x86 -name include -o -name scripts -type d) -type f
		echo tools/objtool/objtool
		echo Module.symvers
		echo .config
	} | LC_ALL=C sort -u | tar -c -f - -T - | tar -x -f - -C "$kbuild"
) || die "copying the module build tree failed"

# Proof that it builds modules for this kernel: a module that does
# nothing, built against the copy, must carry this kernel's vermagic.
probe=$work/probe
mkdir -p "$probe"
cat >"$probe/probe.c" <<'EOF'
#include <linux/module.h>
static int __init probe_init(void) { return 0; }
static void __exit probe_exit(void) { }
module_init(probe_init);
module_exit(probe_exit);
MODULE_LICENSE("GPL");
EOF
echo 'obj-m := probe.o' >"$probe/Kbuild"
make -C "$kbuild" M="$probe" modules >>"$build_log" 2>&1 ||
	fail "building a module against $kbuild failed"
vermagic=$(modinfo -F vermagic "$probe/probe.ko")
[ "${vermagic%% *}" = "$kver" ] ||
	die "a module built against $kbuild is for '$vermagic', not $kver"

# The guest's part: what the stock image has for its kernel. The guest's
# /lib is /usr/lib (Debian 12 merges /usr), hence the paths.
log "packing the guest's headers and module data"
guest=$work/guest
kmake INSTALL_MOD_PATH="$guest/usr" modules_install >>"$build_log" 2>&1 ||
	fail "modules_install failed"
moddir=$guest/usr/lib/modules/$kver
rm -f "$moddir/build" "$moddir/source"
ln -s "/usr/src/linux-headers-$kver" "$moddir/build"
mkdir -p "$guest/usr/src"
cp -a "$kbuild" "$guest/usr/src/linux-headers-$kver"
(cd "$guest" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) >"$out/guest.cpio"

du -sh "$out/kbuild" "$out/guest.cpio" "$out/vmlinuz" | sed 's/^/[vm] size: /' >&2
entry=$(cache_put debug-kernel "$key" "$out") || die "storing the debug kernel failed"
# The full tree (some GB) is not kept: the entry has what is used.
rm -rf "$tree" "$probe" "$guest"
log "debug kernel ready in $((SECONDS - started)) s: $entry (kernel $kver)"
echo "$entry"
