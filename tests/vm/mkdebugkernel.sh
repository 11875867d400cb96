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
# Needs the Debian packages in $KERNEL_PACKAGES (it installs nothing) and
# no root. The build takes long on a small machine (tens of minutes on 2
# cores).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$VM_DIR/kernel-lib.sh"
KERNEL_ARCH=x86

FRAGMENT=$VM_DIR/debug-kernel.config
kernel_begin debug-kernel "$FRAGMENT" "$0"
kernel_configure "$FRAGMENT"

kernel_build bzImage arch/x86/boot/bzImage vmlinuz
kbuild=$out/kbuild

# The guest's part: what the stock image has for its kernel. The guest's
# /lib is /usr/lib (Debian 12 merges /usr), hence the paths.
log "packing the guest's headers and module data"
guest=$work/guest
kmake INSTALL_MOD_PATH="$guest/usr" modules_install >>"$build_log" 2>&1 ||
	kernel_fail "modules_install failed"
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
rm -rf "$tree" "$guest"
log "debug kernel ready in $((SECONDS - started)) s: $entry (kernel $kver)"
echo "$entry"
