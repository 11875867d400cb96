# shellcheck shell=bash
# Shared settings of the VM harness: where the image is made and cached,
# and what keys it.

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$VM_DIR/../.." && pwd)
# Where the image is made (the root file system while it is built).
VM_WORK=${VM_WORK:-${O:-$TOP_DIR/build}/vm}
. "$VM_DIR/cache.sh"
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
DEBIAN_SUITE=bookworm

# The image is made again whenever one of the files that describe it, or
# the suite it comes from, changes.
vm_image_key() {
	{
		echo "suite $DEBIAN_SUITE"
		cat "$VM_DIR/mkrootfs.sh" "$VM_DIR/packages.list" "$VM_DIR/guest/"*
	} | sha256sum | cut -d' ' -f1
}

log() {
	printf '[vm] %s\n' "$*" >&2
}

die() {
	printf '[vm] error: %s\n' "$*" >&2
	exit 1
}

# vm_select_kernel WHO: which kernel the suites of this run boot. With
# VM_KERNEL=debug, the debug kernel (mkdebugkernel.sh: lockdep, KASAN,
# UBSAN, kmemleak; built once, then cached): exports VM_KERNEL_DIR, the
# entry vm-run boots, and VM_KDIR, the tree to build modules against. With
# VM_KERNEL=uml, the User-Mode Linux debug kernel (mkumlkernel.sh: the same
# checkers, at native speed), which uml-run boots instead of vm-run. With
# VM_KERNEL=stock (the default), the image's own kernel. Sets VM_KVER,
# VM_KERNEL_NAME (stock, debug or uml), VM_RUN (the runner that boots it)
# and VM_KMAKE (what a module build against VM_KDIR adds to make's command
# line). Returns 125, the harness's own failure, when the kernel cannot be
# had.
vm_select_kernel() {
	local who=$1 image entry maker
	VM_KERNEL_NAME=${VM_KERNEL:-stock}
	VM_RUN=$VM_DIR/vm-run
	VM_KMAKE=()
	case $VM_KERNEL_NAME in
	stock)
		image=$("$VM_DIR/mkrootfs.sh") || { echo "$who: no guest image" >&2; return 125; }
		# Its one line of output is the image's directory: anything else is a bug.
		[ -d "$image" ] && [ -e "$image/kernel-version" ] ||
			{ echo "$who: mkrootfs.sh printed '$image', not an image directory" >&2; return 125; }
		VM_KVER=$(cat "$image/kernel-version")
		VM_KDIR=${VM_KDIR:-$image/kbuild/$(cat "$image/kbuild-dir")}
		;;
	debug|uml)
		maker=mkdebugkernel.sh
		if [ "$VM_KERNEL_NAME" = uml ]; then
			maker=mkumlkernel.sh
			VM_RUN=$VM_DIR/uml-run
			# UML instruments only what asks for UBSAN (it has no
			# UBSAN_SANITIZE_ALL): the modules under test do.
			VM_KMAKE=(ARCH=um UBSAN_SANITIZE=y)
		fi
		entry=$("$VM_DIR/$maker") || { echo "$who: no $VM_KERNEL_NAME kernel" >&2; return 125; }
		[ -d "$entry" ] && [ -e "$entry/kernel-version" ] ||
			{ echo "$who: $maker printed '$entry', not a kernel directory" >&2; return 125; }
		VM_KVER=$(cat "$entry/kernel-version")
		VM_KDIR=${VM_KDIR:-$entry/kbuild}
		export VM_KERNEL_DIR=$entry
		;;
	*)
		echo "$who: VM_KERNEL is stock, debug or uml, not '$VM_KERNEL_NAME'" >&2
		return 125
		;;
	esac
	[ -e "$VM_KDIR/Makefile" ] ||
		{ echo "$who: no headers for the guest kernel $VM_KVER in $VM_KDIR" >&2; return 125; }
	export VM_KDIR
}

# kernel_make ARG...: make with none of the calling make's flags. Under
# "make check" MAKEFLAGS carries -w (--output-sync turns it on), which puts
# "Entering directory" lines into what a build prints, and a jobserver
# whose descriptors this recipe does not have, which turns -jN into -j1.
kernel_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"
}

# For the runners that test the modules: selects the kernel
# (vm_select_kernel) and builds the modules against its headers, which the
# image or the debug kernel's entry carries (VM_KDIR overrides them),
# whatever headers the host has. The build runs in a mirror of the module
# sources under $O/vm/modules/KVER, never in driver/ itself: "make check"
# runs the kernel-quality build there (a clean, then W=1) at the same
# time. Sets VM_MODULES to the directory that holds coldroom.ko and
# coldroom_sim.ko. $1 prefixes the messages. Returns 125, the harness's own
# failure, if not.
vm_build_modules() {
	local who=$1 src
	vm_select_kernel "$who" || return 125
	src=$VM_WORK/modules/$VM_KVER
	echo "$who: building the modules for $VM_KVER"
	mkdir -p "$src"
	# One build at a time: the suites run side by side (make check-vm).
	(
		flock 8
		vm_mirror_sources "$src" &&
			kernel_make -j"$(nproc)" -C "$src/driver" KDIR="$VM_KDIR" O="${O:-$TOP_DIR/build}" COLDROOM_WERROR=1 \
				"${VM_KMAKE[@]}" modules >/dev/null
	) 8>"$src.lock" || { echo "$who: module build failed" >&2; return 125; }
	VM_MODULES=$src/driver
}

# vm_module_sources: the module sources under the current directory, sorted.
# What kbuild makes beside them (*.mod.c, .*.cmd) is left out: an in-tree
# build running at the same time (make check-kernel) makes and removes it.
vm_module_sources() {
	find . -type f \( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) \
		! -name '*.mod.c' ! -name '.*' | sort
}

# vm_mirror_sources DIR: makes DIR/{driver,firmware/lib,include/uapi} the
# module sources exactly as they are in the tree (the layout Kbuild and the
# DKMS tree share). Files that did not change keep their time, so kbuild
# rebuilds only what changed.
vm_mirror_sources() {
	local dir=$1 sub f
	for sub in driver firmware/lib include/uapi; do
		mkdir -p "$dir/$sub"
		(cd "$TOP_DIR/$sub" && vm_module_sources) >"$dir/$sub.list"
		while IFS= read -r f; do
			cmp -s "$TOP_DIR/$sub/$f" "$dir/$sub/$f" && continue
			mkdir -p "$dir/$sub/$(dirname "$f")"
			cp "$TOP_DIR/$sub/$f" "$dir/$sub/$f" || return 1
		done <"$dir/$sub.list"
		# A source removed from the tree goes from the mirror too.
		(cd "$dir/$sub" && vm_module_sources) | comm -13 "$dir/$sub.list" - |
			(cd "$dir/$sub" && xargs -r rm -f --)
	done
}

# vm_daemon_files WHO DIR: builds coldroomd, coldroomctl, coldroom-metrics and
# the model blobs
# and puts them in DIR with the unit, the D-Bus policy, the sysusers entry,
# the default config and a calibration file, for daemon-lib.sh's
# install_daemon in the guest (at /usr/lib/vmtest/daemon).
vm_daemon_files() {
	local who=$1 dir=$2 o=${O:-$TOP_DIR/build}
	echo "$who: building the daemon and the blobs"
	mkdir -p "$o"
	# One build at a time: the suites run in two lanes at once.
	(
		flock 8
		make -C "$TOP_DIR/firmware" O="$o" >/dev/null ||
			{ echo "$who: firmware build failed" >&2; exit 125; }
		make -C "$TOP_DIR/daemon" O="$o" >/dev/null ||
			{ echo "$who: daemon build failed" >&2; exit 125; }
	) 8>"$o/.daemon-build.lock" || return 125
	mkdir -p "$dir"
	cp "$o/daemon/coldroomd" "$o/daemon/coldroomctl" "$o/daemon/coldroom-metrics" \
		"$o/firmware/coldroom/CRS-200.fw" "$o/firmware/coldroom/CRS-210T.fw" \
		"$TOP_DIR/systemd/coldroomd.service" "$TOP_DIR/systemd/org.coldroom.Sensors1.conf" \
		"$TOP_DIR/systemd/coldroom.sysusers" "$TOP_DIR/firmware/samples/SIM-000002.override" \
		"$TOP_DIR/daemon/coldroomd/coldroomd.conf" "$dir/"
}

# vm_outcome RUNNER NAME LOG STATUS TIMEOUT EXPECT: how a boot of vm-run or
# uml-run ended, from its console LOG and the exit STATUS of the guest's
# process (QEMU or UML) under timeout(1): the script's exit status, 124 when
# the guest ran past TIMEOUT, 125 when it ended without a result. With
# EXPECT (the harness's own tests of failures), 0 when that is the outcome,
# else 1. Logs the verdict and exits with it.
vm_outcome() {
	local runner=$1 name=$2 log_file=$3 rc=$4 timeout_s=$5 expect=$6 status what
	status=$(sed -n 's/^.*VMTEST-RESULT: \([0-9]\{1,3\}\).*$/\1/p' "$log_file" | tail -n 1)
	if [ -n "$status" ]; then
		what="exit status $status"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		status=124
		what="the guest hung past ${timeout_s}s (console above)"
	else
		status=125
		what="the guest ended ($runner status $rc) without a result (console above)"
	fi
	if [ -z "$expect" ]; then
		if [ "$status" -eq 0 ]; then log "PASS $name"; else log "FAIL $name: $what"; fi
		exit "$status"
	fi
	if [ "$status" -eq "$expect" ]; then
		log "PASS $name: $what, as expected"
		exit 0
	fi
	log "FAIL $name: $what; expected status $expect"
	exit 1
}

# vm_failures LOG: a guest log's failed checks and result, each failed check
# whose text ends in ':' with up to 60 lines of the details under it.
vm_failures() {
	awk '
		/^(PASS|FAIL|RESULT|MEMORY|RATE):|^== / { details = 0 }
		details > 0 { print "| " $0; details--; next }
		/^(FAIL|RESULT|SLAB: grew)/ { print; if (/^FAIL.*:[[:space:]]*$/) details = 60 }
	' "$1"
}

# vm_run_tests WHO DIR OUT TIMEOUT TEST...: runs each guest test DIR/TEST.sh
# in the VM with the files of the array VM_FILES (--file HOST:GUEST ...),
# its console in OUT/TEST.log, and reports it: PASS with its number of
# checks, or FAIL with the failed checks; then its MEMORY and RATE lines. A test
# given as TEST:SECONDS gets that timeout instead of TIMEOUT. Returns the
# number of failed tests.
vm_run_tests() {
	local who=$1 dir=$2 out=$3 timeout=$4 t name secs start failed=0
	shift 4
	for t in "$@"; do
		name=${t%%:*}
		secs=$timeout
		[ "$t" = "$name" ] || secs=${t#*:}
		start=$SECONDS
		# The time each suite takes, boot included: where make check's goes.
		if "${VM_RUN:-$VM_DIR/vm-run}" --timeout "$secs" --log "$out/$name.log" "${VM_FILES[@]}" \
			"$dir/$name.sh" >/dev/null; then
			echo "$who: PASS $name ($(grep -c '^PASS' "$out/$name.log") checks, $((SECONDS - start)) s)"
		else
			echo "$who: FAIL $name (log: $out/$name.log, $((SECONDS - start)) s)"
			# The failed checks, with the details a check ending in ':'
			# prints under it (a kernel report's trace): CI keeps only
			# this output. A hang or a crash has none: the log's end.
			vm_failures "$out/$name.log" | sed 's/^/    /' | grep . ||
				tail -n 60 "$out/$name.log" | sed 's/^/    | /'
			failed=$((failed + 1))
		fi
		grep -E '^(MEMORY|RATE)' "$out/$name.log" | sed 's/^/    /' || true
	done
	return "$failed"
}
