#!/bin/bash
# Builds (once) the guest image of the VM harness: Debian's real kernel, a
# debootstrap root file system as an ext4 disk image (root.img, which every
# boot uses as a throw-away snapshot), a small initramfs that loads the
# disk's drivers for that kernel (initrd.img), and the headers of that very
# kernel (kbuild/, relocatable) for building modules for it on the host. The image is a cache entry keyed by the files that describe it
# (tests/vm/cache.sh: machine-wide in COLDROOM_CACHE, and in build/cache);
# a warm cache makes this a no-op. Prints the image directory on stdout.
#
# Needs root (debootstrap, chroot) and network access to Debian's archive.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

key=$(vm_image_key)
if image=$(cache_get image "$key"); then
	echo "$image"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "building the guest image needs root (debootstrap, chroot)"
for tool in debootstrap cpio mkfs.ext4; do
	command -v "$tool" >/dev/null || die "$tool is missing: run 'make deps'"
done

cache_lock image
# Another run may have built it while this one waited for the lock.
if image=$(cache_get image "$key"); then
	echo "$image"
	exit 0
fi
mkdir -p "$VM_WORK"
root="$VM_WORK/rootfs.tmp"
out="$VM_WORK/image.tmp"
unmount_all() {
	local m
	for m in dev/pts dev sys proc; do
		mountpoint -q "$root/$m" && umount -l "$root/$m"
	done
	return 0
}
trap unmount_all EXIT
unmount_all
rm -rf "$root" "$out"
mkdir -p "$root" "$out"

started=$SECONDS
log "debootstrap $DEBIAN_SUITE into $root"
debootstrap --variant=minbase --include=systemd,systemd-sysv,udev,dbus \
	"$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >"$VM_WORK/debootstrap.log" 2>&1 ||
	{ tail -n 30 "$VM_WORK/debootstrap.log" >&2; die "debootstrap failed"; }

# The kernel and its headers come from the security and updates suites:
# give the guest the same sources a Debian 12 host has.
cat >"$root/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $DEBIAN_SUITE main
deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main
deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main
EOF
cat >"$root/etc/dpkg/dpkg.cfg.d/01-vm-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF

mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

packages=$(sed -e 's/#.*//' "$VM_DIR/packages.list" | xargs)
log "installing into the guest: $packages"
# INITRD=No: the guest boots from this very tree; no initrd is built for it.
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive INITRD=No \
	sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends $packages" \
	>"$VM_WORK/apt.log" 2>&1 ||
	{ tail -n 30 "$VM_WORK/apt.log" >&2; die "installing guest packages failed"; }

kver=$(ls "$root/lib/modules" | sort -V | tail -n 1)
[ -n "$kver" ] || die "no kernel was installed in the guest"
[ -d "$root/lib/modules/$kver/build" ] || [ -L "$root/lib/modules/$kver/build" ] ||
	die "no headers for $kver in the guest"

log "configuring the guest"
echo coldroom-vm >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 coldroom-vm\n' >"$root/etc/hosts"
: >"$root/etc/fstab"
chroot "$root" passwd -d root >/dev/null
# A fixed machine id: every boot is a normal boot, never a "first boot".
chroot "$root" systemd-machine-id-setup >/dev/null 2>&1
install -d "$root/usr/lib/vmtest"
install -m 0755 "$VM_DIR/guest/vmtest-run" "$VM_DIR/guest/vmtest-init" "$root/usr/lib/vmtest/"
install -m 0644 "$VM_DIR/guest/vmtest.service" "$root/etc/systemd/system/vmtest.service"
chroot "$root" systemctl enable vmtest.service >/dev/null 2>&1
# Periodic jobs only slow a short-lived test guest down.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
	fstrim.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer \
	e2scrub_reap.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

# The headers of exactly this kernel, for building modules for the guest on
# the host whatever headers the host has: the kernel's own tree, the common
# tree it includes and the kbuild tools its symlinks point to, at the same
# paths below kbuild/. Its Makefile names the common tree by an absolute
# path; make it relative, so that the entry works wherever it lies.
hdr=$(readlink "$root/lib/modules/$kver/build")
common=$(sed -n 's|^include \(/usr/src/[^/]*\)/Makefile$|\1|p' "$root$hdr/Makefile")
tools=$(chroot "$root" readlink -f "$hdr/scripts")
[ -n "$common" ] && [ -d "$root$common" ] && [ -d "$root$tools" ] ||
	die "unexpected layout of the headers of $kver in the guest ($hdr)"
mkdir -p "$out/kbuild"
(cd "$root" && cp -a --parents "${hdr#/}" "${common#/}" "$(dirname "${tools#/}")" "$out/kbuild/") ||
	die "copying the headers of $kver failed"
printf 'include $(dir $(lastword $(MAKEFILE_LIST)))../%s/Makefile\n' "$(basename "$common")" \
	>"$out/kbuild$hdr/Makefile"
echo "${hdr#/}" >"$out/kbuild-dir"

log "pruning the guest"
unmount_all
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* \
	"$root"/var/cache/debconf/*-old "$root"/var/log/* "$root"/boot/initrd.img* \
	"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
# A smaller image is a faster cache: drop kernel module trees no test loads.
# Except one network card, QEMU's default (e1000), for the browser's path
# to the guest's Cockpit (vm-run --forward).
mods="$root/lib/modules/$kver/kernel"
nic=drivers/net/ethernet/intel/e1000
rm -rf "$VM_WORK/nic.keep"
mv "$mods/$nic" "$VM_WORK/nic.keep"
for sub in drivers/gpu drivers/media drivers/net drivers/infiniband \
	drivers/scsi drivers/usb drivers/staging drivers/iio drivers/input \
	drivers/bluetooth drivers/isdn drivers/mtd drivers/hid drivers/video \
	drivers/thunderbolt drivers/nfc drivers/md drivers/target drivers/ata \
	drivers/misc drivers/crypto drivers/edac drivers/mmc drivers/spi \
	drivers/i2c drivers/pinctrl drivers/leds drivers/power drivers/rtc \
	drivers/platform drivers/mfd drivers/regulator drivers/gpio \
	drivers/comedi drivers/atm drivers/uwb drivers/watchdog sound net \
	fs/btrfs fs/xfs fs/ocfs2 fs/nfs fs/nfsd fs/cifs fs/smb fs/ceph \
	fs/gfs2 fs/f2fs fs/ntfs3 fs/jfs fs/reiserfs fs/ubifs fs/nilfs2; do
	rm -rf "${mods:?}/$sub"
done
mkdir -p "$(dirname "$mods/$nic")"
mv "$VM_WORK/nic.keep" "$mods/$nic"
# And what no test runs: the kernel builds without LTO or sanitizers,
# nothing links statically, udev needs no hardware database.
rm -f "$root"/usr/lib/gcc/x86_64-linux-gnu/*/lto1 \
	"$root"/usr/lib/gcc/x86_64-linux-gnu/*/lib*san*.a \
	"$root"/usr/bin/x86_64-linux-gnu-lto-dump-* \
	"$root"/usr/lib/x86_64-linux-gnu/lib*san.so.* \
	"$root"/usr/lib/x86_64-linux-gnu/libgprofng.so.* \
	"$root"/usr/lib/x86_64-linux-gnu/libc.a "$root"/usr/lib/x86_64-linux-gnu/libm-*.a \
	"$root"/usr/lib/udev/hwdb.bin
rm -rf "$root"/usr/lib/udev/hwdb.d \
	"$root"/usr/lib/x86_64-linux-gnu/perl/5.*/auto/Encode/{JP,KR,CN,TW} \
	"$mods/lib/test_bpf.ko" "$mods/arch/x86/kvm"
chroot "$root" depmod "$kver"

cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "$kver" >"$out/kernel-version"

# The initramfs of the stock kernel: Debian builds the virtio disk and
# ext4 drivers as modules, so a klibc /init loads them (in modprobe's
# order, the software crc32c that ext4 asks for first) and mounts the root
# disk (guest/initramfs-init). A few MB instead of the whole tree in RAM:
# unpacking 450 MB took every boot 17 s under emulation.
log "making the initramfs"
initrd=$VM_WORK/initrd.tmp
rm -rf "$initrd"
mkdir -p "$initrd"/{dev,proc,root,lib}
chroot "$root" modprobe -S "$kver" -a --show-depends crc32c_generic virtio_pci virtio_blk ext4 |
	awk '$1 == "insmod" && !seen[$2]++ {print $2}' >"$initrd/modules"
[ -s "$initrd/modules" ] || die "modprobe lists no module for the root disk"
while read -r module; do
	install -D -m 0644 "$root$module" "$initrd$module"
done <"$initrd/modules"
klibc=$(cd "$root/usr/lib" && ls klibc-*.so)
cp "$root/usr/lib/$klibc" "$initrd/lib/"
mkdir -p "$initrd/bin"
for tool in sh mount insmod sleep mkdir run-init; do
	cp "$root/usr/lib/klibc/bin/$tool" "$initrd/bin/"
done
install -m 0755 "$VM_DIR/guest/initramfs-init" "$initrd/init"
(cd "$initrd" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) \
	>"$out/initrd.img"
rm -rf "$initrd"

# The root file system: ext4 without a journal (every boot writes to a
# snapshot QEMU discards), with room for what the tests write (DKMS
# builds, 10,000 firmware links). Sparse: the free space takes no disk.
log "making the root disk image"
used_mb=$(du -sm "$root" | cut -f1)
# Its chatter ("Creating regular file", despite -q) goes to stderr: this
# script's stdout is the image's path and nothing else.
mkfs.ext4 -q -F -L coldroom-vm -O ^has_journal -m 0 -E root_owner=0:0 \
	-d "$root" "$out/root.img" "$((used_mb * 2 + 2048))M" >&2 ||
	die "making the root disk image failed"
du -sh "$out/root.img" "$out/initrd.img" | sed 's/^/[vm] size: /' >&2
rm -rf "$root"
image=$(cache_put image "$key" "$out") || die "storing the guest image failed"
log "guest image ready in $((SECONDS - started)) s: $image (kernel $kver)"
echo "$image"
