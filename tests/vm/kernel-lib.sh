# shellcheck shell=bash
# What the harness's kernel builds share (mkdebugkernel.sh, the TCG debug
# kernel; mkumlkernel.sh, the User-Mode Linux one): Debian's linux-source-6.1
# as the source, a config fragment merged onto tinyconfig and checked line by
# line, the tree external modules build against, and the proof that it does.
# Sourced after lib.sh; the caller sets KERNEL_ARCH (x86 or um).

SOURCE_PACKAGE=linux-source-6.1
TARBALL=/usr/src/$SOURCE_PACKAGE.tar.xz
# What a build uses: the source; tar's xz; the compiler; bc (timeconst),
# flex and bison (Kconfig), libelf-dev (objtool); kmod (depmod, modinfo),
# cpio and patch. No libssl-dev: no module signing and no trusted keys; no
# dwarves: no BTF.
KERNEL_PACKAGES="$SOURCE_PACKAGE xz-utils make gcc libc6-dev bc flex bison libelf-dev kmod cpio patch"

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

# kernel_begin NAME FILE...: the start of a kernel build. The entry's key
# is the installed source package's version (a new Debian upload, a
# security fix, makes a new kernel), this file and FILE... (the config
# fragment, the script, any patch). When the cache has the entry NAME for it, prints it and exits 0;
# else holds the lock for making it (cache_lock; another run may have made
# it meanwhile, so it looks again), unpacks the source into an empty $work
# and empties $out, where the entry is made. Sets key, work, out, tree,
# build_log, started, failed_mark.
kernel_begin() {
	local name=$1 entry
	shift
	need_packages "$SOURCE_PACKAGE"
	key=$({
		echo "source $SOURCE_PACKAGE $(dpkg-query -W -f='${Version}' "$SOURCE_PACKAGE")"
		cat "$VM_DIR/kernel-lib.sh" "$@"
	} | sha256sum | cut -d' ' -f1)
	if ! entry=$(cache_get "$name" "$key"); then
		cache_lock "$name"
		entry=$(cache_get "$name" "$key") || entry=
	fi
	if [ -n "$entry" ]; then
		echo "$entry"
		exit 0
	fi
	work=$VM_WORK/$name
	out=$VM_WORK/$name.tmp
	# A build that failed in this "make check" (the same $COLDROOM_CHECK_RUN
	# and key) is not tried again by each runner that boots the kernel:
	# once is enough to say why, and each try costs up to half an hour.
	failed_mark=$VM_WORK/$name.failed
	if [ -n "${COLDROOM_CHECK_RUN:-}" ] &&
		[ "$(cat "$failed_mark" 2>/dev/null)" = "$COLDROOM_CHECK_RUN $key" ]; then
		die "building $name failed earlier in this make check (log: $work/build.log)"
	fi
	trap 'kernel_exit $?' EXIT
	started=$SECONDS
	rm -rf "$work" "$out"
	mkdir -p "$work" "$out"
	need_packages $KERNEL_PACKAGES
	[ -f "$TARBALL" ] || die "$TARBALL is missing: reinstall $SOURCE_PACKAGE"
	tree=$work/$SOURCE_PACKAGE
	build_log=$work/build.log
	log "unpacking $SOURCE_PACKAGE into $work"
	tar -xf "$TARBALL" -C "$work"
	[ -f "$tree/Makefile" ] || die "$TARBALL does not hold $SOURCE_PACKAGE/"
}

# kernel_exit STATUS: at the builder's exit, a failure remembered for the
# rest of this make check (kernel_begin).
kernel_exit() {
	[ "$1" -ne 0 ] && [ -n "${COLDROOM_CHECK_RUN:-}" ] || return 0
	mkdir -p "$VM_WORK"
	echo "$COLDROOM_CHECK_RUN $key" >"$failed_mark"
}

# kmake ARG...: make in $tree for KERNEL_ARCH. LOCALVERSION= keeps kbuild
# from adding a "+" to the release; the build user and host are fixed so
# that the banner names no machine.
kmake() {
	kernel_make -C "$tree" ARCH="$KERNEL_ARCH" LOCALVERSION= KBUILD_BUILD_USER=coldroom \
		KBUILD_BUILD_HOST=coldroom-vm "$@"
}

# kernel_fail WHAT: the end of the build log, then the error.
kernel_fail() {
	tail -n 40 "$build_log" >&2
	die "$1 (log: $build_log)"
}

# kernel_configure FRAGMENT: tinyconfig, FRAGMENT merged onto it,
# olddefconfig; then every line of FRAGMENT must be in the result as
# written (Kconfig drops, and olddefconfig does not complain about, what
# it cannot satisfy).
kernel_configure() {
	local fragment=$1 line got sym bad=0
	log "configuring: tinyconfig + $(basename "$fragment")"
	{
		kmake tinyconfig &&
			(cd "$tree" && scripts/kconfig/merge_config.sh -m .config "$fragment") &&
			kmake olddefconfig
	} >>"$build_log" 2>&1 || kernel_fail "configuring the kernel failed"
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
	done < <(sed 's/[[:space:]]*$//' "$fragment")
	[ "$bad" -eq 0 ] ||
		die "$bad settings of $(basename "$fragment") did not survive Kconfig (a missing dependency?)"
}

# kernel_build TARGET IMAGE NAME: builds TARGET (the kernel) and the
# modules step, the one that writes Module.symvers, which external modules
# link against; copies IMAGE of the tree to $out/NAME with kernel-version
# and config, and makes $out/kbuild, the module build tree, proven by a
# probe module. Sets kver.
kernel_build() {
	local target=$1 image=$2 name=$3 built=$SECONDS
	log "building $target with $(nproc) jobs (log: $build_log)"
	kmake -j"$(nproc)" "$target" modules >>"$build_log" 2>&1 ||
		kernel_fail "building the kernel failed"
	# The release as the build wrote it, not as a make prints it.
	kver=$(cat "$tree/include/config/kernel.release")
	[ -n "$kver" ] || kernel_fail "the build wrote no kernel release"
	log "kernel $kver built in $((SECONDS - built)) s"
	[ -s "$tree/Module.symvers" ] || kernel_fail "the build wrote no Module.symvers"
	cp "$tree/$image" "$out/$name"
	echo "$kver" >"$out/kernel-version"
	cp "$tree/.config" "$out/config"
	log "making the module build tree"
	kernel_kbuild_tree "$out/kbuild"
	kernel_probe_module "$out/kbuild" "$kver" "$work"
}

# kernel_kbuild_tree DIR: the tree external modules need, as Debian's
# linux-headers packages and the kernel's own scripts/package/builddeb
# make it: the Makefiles, the include and scripts trees with the host tools
# built in them, the architecture's headers and generated headers, objtool
# (if built), .config and Module.symvers. Relocatable: the top Makefile
# finds the tree from its own path. UML's architecture is um on top of
# x86's headers, hence both.
kernel_kbuild_tree() {
	local dir=$1 arches=arch/x86
	[ "$KERNEL_ARCH" = um ] && arches="arch/um arch/x86"
	mkdir -p "$dir"
	(
		cd "$tree"
		{
			find . $arches -maxdepth 1 -name 'Makefile*'
			find include scripts -type f -o -type l
			find $arches -name Kbuild.platforms -o -name Platform -o -name 'Makefile*.um' \
				-o -name 'Makefile-*'
			find $(find $arches -name include -o -name scripts -o -name shared -type d) -type f
			[ "$KERNEL_ARCH" != um ] || find arch/x86/um/asm -type f
			[ ! -x tools/objtool/objtool ] || echo tools/objtool/objtool
			echo Module.symvers
			echo .config
		} | LC_ALL=C sort -u | tar -c -f - -T - | tar -x -f - -C "$dir"
	) || die "copying the module build tree failed"
}

# kernel_probe_module KBUILD KVER WORK: proof that KBUILD builds modules
# for this kernel: a module that does nothing, built against the copy,
# must carry this kernel's vermagic.
kernel_probe_module() {
	local kbuild=$1 kver=$2 probe=$3/probe vermagic
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
	kernel_make -C "$kbuild" ARCH="$KERNEL_ARCH" M="$probe" modules >>"$build_log" 2>&1 ||
		kernel_fail "building a module against $kbuild failed"
	vermagic=$(modinfo -F vermagic "$probe/probe.ko")
	[ "${vermagic%% *}" = "$kver" ] ||
		die "a module built against $kbuild is for '$vermagic', not $kver"
	rm -rf "$probe"
}
