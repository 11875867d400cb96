#!/bin/bash
# Builds (once) the User-Mode Linux debug kernel of the UML harness
# (tests/vm/uml-run): Debian's own 6.1 source (linux-source-6.1, the series
# of the guest's stock kernel) for ARCH=um, with lockdep, KASAN, UBSAN,
# kmemleak, DEBUG_ATOMIC_SLEEP and object debugging
# (tests/vm/uml-kernel.config says what and why; tests/vm/uml-kernel.patch
# is what UML 6.1 needs for them, below). It runs as a host process at
# native speed, no emulation. The result is a cache entry "uml-kernel"
# (tests/vm/cache.sh) keyed by the source package's version, the config
# fragment, the patch and the scripts that make it; a warm cache makes
# this a no-op. Prints the entry directory on stdout; it holds
#
#   linux           the UML kernel, an executable of the host
#   kernel-version  its release (make kernelrelease)
#   config          its .config
#   kbuild/         the tree to build external modules against:
#                   make -C DIR/kbuild ARCH=um M=... modules
#
# Needs the Debian packages in $KERNEL_PACKAGES (it installs nothing) and
# no root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$VM_DIR/kernel-lib.sh"
KERNEL_ARCH=um

FRAGMENT=$VM_DIR/uml-kernel.config
PATCH=$VM_DIR/uml-kernel.patch
kernel_begin uml-kernel "$FRAGMENT" "$PATCH" "$0"

# What UML 6.1 needs to run these checkers clean (uml-kernel.patch):
#  - hwmon depends on HAS_IOMEM, which UML lacks (NO_IOMEM), though the
#    hwmon core maps no I/O memory; the driver registers a hwmon device.
#  - DEBUG_ATOMIC_SLEEP depends on !ARCH_NO_PREEMPT: UML does not preempt,
#    but the check needs only the preempt count (PREEMPT_COUNT), as on any
#    non-preemptive x86 kernel; spinlocks and atomic sections keep it.
#  - force_flush_all() walks the VMAs of a new process with no lock the
#    maple tree's checks know: a "suspicious RCU usage" at the first fork
#    of every boot. It runs with interrupts off, where the mmap lock
#    (which sleeps) cannot be taken and nothing changes the tree: an RCU
#    read section says so.
#  - Each open of a copy-on-write ubd disk reads its backing file's name
#    again and drops the copy read before: kmemleak reports it.
#  - The processes' FPU registers pass between UML and the host with
#    ptrace's NT_X86_XSTATE, which the host takes only whole. UML 6.1 gives
#    it a fixed 2,696 bytes (AVX-512 and PKRU); a host with AMX (Sapphire
#    Rapids) wants 11,008, one without AVX-512 less, and init gets EFAULT
#    ("ptrace set fp regs failed, errno = 14", then a panic). They go
#    through a buffer of the host's own size instead.
# A hunk that does not apply exactly stops the build.
patch -d "$tree" -p1 --forward --fuzz=0 --quiet <"$PATCH" ||
	die "$(basename "$PATCH") does not apply to $SOURCE_PACKAGE: has Debian changed those files?"

kernel_configure "$FRAGMENT"

kernel_build linux linux linux

du -sh "$out/kbuild" "$out/linux" | sed 's/^/[vm] size: /' >&2
entry=$(cache_put uml-kernel "$key" "$out") || die "storing the UML kernel failed"
# The full tree is not kept: the entry has what is used.
rm -rf "$tree"
log "UML kernel ready in $((SECONDS - started)) s: $entry (kernel $kver)"
echo "$entry"
