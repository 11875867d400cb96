# shellcheck shell=bash
# Sourced by the native benchmarks (run.sh, recorder.sh, metrics.sh,
# uplink.sh): CPU and memory of a process, the private bus with the
# project's policy, coldroomd's name, coldroomd fed by the feeder, the
# recorder, a section's first line.
# Needs $top (the source tree).

# Nanoseconds PID has run on a CPU, all its threads.
cpu_ns() {
	local t sum=0
	for t in /proc/"$1"/task/*/schedstat; do
		read -r ns _ <"$t" && sum=$((sum + ns))
	done
	echo "$sum"
}
peak_rss_kb() { awk '/^VmHWM:/ {print $2}' /proc/"$1"/status; }

# The private bus: Debian's system.conf default policy, then ours, then
# $bus_policy_extra if the caller set it (uplink.sh: the recorder's and the
# uplink's policies, whose names only their own users may own).
bus_config() {
	cat <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$1</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>$top/systemd/org.coldroom.Sensors1.conf</include>
${bus_policy_extra:-}
</busconfig>
CONF
}

# name_owned ADDRESS NAME: NAME has an owner (asked of the bus itself:
# `busctl status` wants the peer's credentials, which a chroot's bus lacks).
name_owned() {
	busctl --address="$1" call org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus NameHasOwner s "$2" 2>/dev/null | grep -qx 'b true'
}

# wait_for_name ADDRESS: coldroomd owns its name (it has scanned the tree).
wait_for_name() {
	local i
	for i in $(seq 600); do
		name_owned "$1" org.coldroom.Sensors1 && return 0
		sleep 0.1
	done
	return 1
}

# make_scratch NAME: $scratch, a directory on tmpfs if there is one, and a
# trap that kills the processes in $pids and removes it on exit.
make_scratch() {
	local root=${TMPDIR:-/dev/shm}
	[ -w "$root" ] || root=/tmp
	scratch=$(mktemp -d "$root/$1.XXXXXX") || die "no scratch directory"
	pids=()
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$scratch"
}

# replace_section NAME SECTION OUTPUT: put the file SECTION between the
# "<!-- NAME: begin -->" and "<!-- NAME: end -->" lines of OUTPUT, or at its end.
replace_section() {
	local begin="<!-- $1: begin -->" end="<!-- $1: end -->"
	touch "$3"
	awk -v b="$begin" -v e="$end" -v sec="$2" '
		function emit() { while ((getline l < sec) > 0) print l; done = 1 }
		$0 == b {skip = 1; emit(); next}
		$0 == e {skip = 0; next}
		!skip {print}
		END {if (!done) {print ""; emit()}}' "$3" >"$3.new" && mv "$3.new" "$3"
}

# build_tools DIR: coldroomd built ($O), and in DIR the feeder, dbus-latency
# (a Readings subscriber) and dbus-flood (a caller); dbus-daemon there.
build_tools() {
	local prog
	make -s -C "$top/daemon" O="$O" >/dev/null || die "building coldroomd failed"
	build_feeder "$1"
	for prog in "$top/tests/bench/dbus-latency.c" "$top/tests/bench/native/dbus-flood.c"; do
		${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror -I"$top/daemon/shared" \
			-o "$1/$(basename "$prog" .c)" "$prog" -lsystemd ||
			die "building $(basename "$prog") failed"
	done
	command -v dbus-daemon >/dev/null || die "dbus-daemon is missing (make deps)"
}

# build_feeder DIR: the feeder (feeder.c), which makes fake sysfs trees and
# writes /dev/coldroom records, as DIR/feeder.
build_feeder() {
	${CC:-gcc} -std=gnu11 -O2 -Wall -Wextra -Werror -I"$(dirname "${BASH_SOURCE[0]}")/../../../include/uapi" \
		-o "$1/feeder" "$(dirname "${BASH_SOURCE[0]}")/feeder.c" || die "building the feeder failed"
}

# start_fed_coldroomd DIR SYS UNITS SECONDS [SETTING...]: a tree of UNITS
# units in SYS (feeder tree), a private bus at DIR/bus, the feeder
# writing records for SECONDS into a FIFO and coldroomd reading them with
# the settings DIR/coldroom.conf (each SETTING a line of it), its log in
# DIR/daemon.log. The FIFO is on the scratch tmpfs, as /dev/coldroom is on
# devtmpfs: on a disk file system every read() of it updates its atime
# through the journal. coldroomd runs under the command in the array
# coldroomd_under when set (valgrind); $coldroomd_bin, when set, is the
# binary (another build, to compare with), with the options in the array
# coldroomd_args. Sets $addr, $bus_pid, $feeder_pid and
# $daemon_pid and adds them to $pids. Needs $O (the build), $scratch
# (make_scratch), $out/feeder (build_feeder "$out") and die().
start_fed_coldroomd() {
	local dir=$1 sys=$2 n=$3 secs=$4 records=$scratch/records
	shift 4
	rm -rf "$sys" "$records"
	"$out/feeder" tree "$sys" "$n" || die "making the tree failed"
	{
		echo "FirmwareOverrideDir=$dir/override"
		echo "ModelFirmwareDir=$dir/model"
		echo "CalibrationDir=$dir/calibration"
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >"$dir/coldroom.conf"
	bus_config "$dir/bus" >"$dir/bus.conf"
	rm -f "$dir/address"
	dbus-daemon --config-file="$dir/bus.conf" --nofork --print-address=3 3>"$dir/address" 2>"$dir/bus.log" &
	bus_pid=$!
	pids+=("$bus_pid")
	for _ in $(seq 100); do [ -s "$dir/address" ] && break; sleep 0.05; done
	addr=$(head -n 1 "$dir/address")
	[ -n "$addr" ] || die "dbus-daemon did not start ($dir/bus.log)"
	mkfifo "$records"
	"$out/feeder" feed "$records" "$n" "$secs" >"$dir/fed" &
	feeder_pid=$!
	pids+=("$feeder_pid")
	${coldroomd_under[@]+"${coldroomd_under[@]}"} \
		"${coldroomd_bin:-$O/daemon/coldroomd}" --bus "$addr" --sysfs-root "$sys" --config "$dir/coldroom.conf" \
		--records-from "$records" ${coldroomd_args[@]+"${coldroomd_args[@]}"} 2>"$dir/daemon.log" &
	daemon_pid=$!
	pids+=("$daemon_pid")
	wait_for_name "$addr" || die "coldroomd did not take its name ($dir/daemon.log)"
}

# A port nobody listens on now on 127.0.0.1 (the kernel's choice, released).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_recorder CONFIG DB: coldroom-recorder on the private bus $addr
# with the settings CONFIG and the database DB, logging to $out/recorder.log;
# sets $rec_pid and adds to $pids.
start_recorder() {
	"$O/daemon/coldroom-recorder" --bus "$addr" --config "$1" --database "$2" \
		2>"$out/recorder.log" &
	rec_pid=$!
	pids+=("$rec_pid")
}

# produced_by CMDLINE: the first line of a section, what ran it where.
produced_by() {
	echo "Produced by \`$1\` on $(date -u +%Y-%m-%d), $(nproc) CPUs" \
		"($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo))."
}
