#!/bin/bash
# Writes BENCHMARKS.md (to stdout) from coldroom-bench's RESULT lines.
#
#   report.sh RESULTS INFO COMMAND EMULATOR
set -euo pipefail
results=${1:?} info=${2:?} command=${3:?} emulator=${4:?}

cat <<HDR
# Benchmarks: the cost of one reading

Produced by \`$command\` (what \`make bench\` runs) on $(date -u +%Y-%m-%d).

**The guest runs under QEMU TCG software emulation** ($emulator, no KVM),
on Debian's kernel $(sed -n 's/^BENCHINFO kernel //p' "$info"), vCPU: $(sed -n 's/^BENCHINFO cpu //p' "$info").
Absolute numbers are those of an emulated CPU: system calls, page faults
and kernel code (path lookup, allocation) cost far more than on hardware,
and not all by the same factor, so no number here predicts hardware. What
the table establishes is the ratios, measured in one run on one machine:
how many readings each mechanism delivers for the cost of one sysfs
open/read/close. rdtsc counts at a constant rate; ns and cycles are each
the minimum over the trials, and the ns include one clock_gettime() per
trial (visible at 10 units), so the ratios use cycles.

A *reading* is one unit's temp1 and temp2. Each trial reads all N units
once through one mechanism; the table shows the best (minimum) trial
divided by N, in nanoseconds (CLOCK_MONOTONIC) and in rdtsc cycles, as
"min of N trials" measurements of a system call do. The sampler keeps
running meanwhile (N units sampling every 100 ms up to 1,000 units, at
the blobs' 500 / 1000 ms for 10,000). The ring mechanisms wait before each
trial until N + 1 fresh records are there and consume one untimed, so
they run as warm as the back-to-back loops of the others: the cost of
waking up once per tick is a fixed cost per wake-up, not per reading, and
is not in the table. Source:
\`tests/bench/coldroom-bench.c\`.

| mechanism | what one reading costs |
|---|---|
| empty syscall | \`getppid()\`: the floor of any system call (reference) |
| sysfs open/read/close | \`open\`+\`read\`+\`close\` of \`temp1\` and of \`temp2\` (6 syscalls), as libsensors does |
| sysfs pread | \`pread\` of kept-open \`temp1\` and \`temp2\` (2 syscalls) |
| ioctl per unit | \`COLDROOM_IOC_READ_TEMP1\` + \`_TEMP2\` (2 syscalls) |
| ioctl batch | \`COLDROOM_IOC_READ_BATCH\` of all N units: 1 syscall per N readings |
| read() records | \`read()\` of N \`struct coldroom_record\` from \`/dev/coldroom\` |
| mmap ring | consuming N records from the mapped ring: no syscall |
| mmap ring + frames | the same, plus copying each CRS-210T record's 32x24 thermal frame |

HDR

awk -v target=100 '
function label(m) {
	if (m == "empty_syscall") return "empty syscall (reference)"
	if (m == "sysfs_open_read_close") return "sysfs open/read/close"
	if (m == "sysfs_pread") return "sysfs pread"
	if (m == "ioctl_per_unit") return "ioctl per unit"
	if (m == "ioctl_batch") return "ioctl batch"
	if (m == "read_records") return "read() records"
	if (m == "mmap_ring") return "mmap ring"
	if (m == "mmap_ring_frames") return "mmap ring + frames"
	return m
}
$1 == "RESULT" {
	n = $2; m = $3
	if (!(n in seen)) { seen[n] = 1; order[++nn] = n }
	if (!((n, m) in ns)) rows[n] = rows[n] " " m
	ns[n, m] = $4; cyc[n, m] = $5; tr[n, m] = $6
}
END {
	for (i = 1; i <= nn; i++) {
		n = order[i]
		base = cyc[n, "sysfs_open_read_close"]
		printf "## %s units\n\n", n
		printf "| mechanism | ns / reading | cycles / reading | trials | sysfs open/read/close cycles / these |\n"
		printf "|---|---:|---:|---:|---:|\n"
		k = split(rows[n], ms, " ")
		for (j = 1; j <= k; j++) {
			m = ms[j]
			ratio = cyc[n, m] > 0 ? base / cyc[n, m] : 0
			printf "| %s | %.1f | %d | %d | %.1fx |\n", label(m), ns[n, m], cyc[n, m], tr[n, m], ratio
		}
		printf "\n"
	}
	printf "## Targets\n\n"
	printf "Target: the bulk paths at least %dx cheaper per reading than sysfs open/read/close (cycles, same run).\n\n", target
	printf "| units | ioctl batch | read() records | mmap ring |\n|---:|---|---|---|\n"
	for (i = 1; i <= nn; i++) {
		n = order[i]
		base = cyc[n, "sysfs_open_read_close"]
		line = "| " n " "
		split("ioctl_batch read_records mmap_ring", bulk, " ")
		for (j = 1; j <= 3; j++) {
			r = cyc[n, bulk[j]] > 0 ? base / cyc[n, bulk[j]] : 0
			line = line sprintf("| %.0fx %s ", r, r >= target ? "(met)" : "(**missed**)")
		}
		print line "|"
	}
	printf "\n"
}' "$results"

# coldroomd at 1 Hz: DAEMON and LATENCY lines of bench-guest.sh.
awk -v target=1 '
function label(k) {
	if (k == "device-unit-signals") return "/dev/coldroom, per-unit PropertiesChanged on (default)"
	if (k == "device") return "/dev/coldroom, Readings signal only (UnitPropertiesChanged=no)"
	if (k == "sysfs") return "sysfs fallback (device refused), Readings signal only"
	return k
}
$1 == "RESULT" && $3 == "empty_syscall" { syscall_ns[$2] = $4 }
$1 == "DAEMON" {
	n = $2; k = $3; keys[++nk] = k; units = n
	src[k] = $4; secs[k] = $5; cpu[k] = $6; dbus[k] = $7; rss[k] = $8; hwm[k] = $9
	samples[k] = $10; start[k] = $11
}
$1 == "LATENCY" {
	k = $3; readings[k] = $4; p50[k] = $5; p99[k] = $6; mx[k] = $7
	rsig[k] = $8; usig[k] = $9
}
END {
	if (!nk) {
		print "## coldroomd\n\nNot measured in this run (no DAEMON lines).\n"
		exit
	}
	printf "## coldroomd with %d units at 1 Hz\n\n", units
	printf "Each configuration: coldroomd started (time to READY=1 below), 10 s of\n"
	printf "warm-up, then %d s measured. CPU is the scheduler'\''s own account\n", secs[keys[1]]
	printf "(`/proc/PID/schedstat`); a reading is one sample the kernel produced in\n"
	printf "the window (debugfs `samples_produced`). Latency: a client on the system\n"
	printf "bus (`tests/bench/dbus-latency.c`) takes the time it handles each\n"
	printf "Manager.Readings signal minus the kernel'\''s timestamp of each\n"
	printf "sample in it (LastUpdate), so it includes the %s window in which\n", "ReadingsBatchMs=100"
	printf "coldroomd coalesces signals and the trip through dbus-daemon.\n\n"
	printf "| configuration | reading source | start s | coldroomd CPU %% of a core | CPU us / reading | RSS MiB (peak) | dbus-daemon CPU %% | readings / s | signals / s (Readings, PropertiesChanged) | latency p50 / p99 / max ms |\n"
	printf "|---|---|---:|---:|---:|---:|---:|---:|---|---|\n"
	for (i = 1; i <= nk; i++) {
		k = keys[i]; t = secs[k] * 1e9
		share[k] = 100 * cpu[k] / t
		per[k] = samples[k] ? cpu[k] / samples[k] / 1000 : 0
		lat = readings[k] ? sprintf("%.0f / %.0f / %.0f", p50[k] / 1000, p99[k] / 1000, mx[k] / 1000) : \
			sprintf("none arrived in %d s", secs[k])
		# A saturated daemon did not handle every reading in the window.
		sat[k] = share[k] >= 95 || p50[k] > 10000000
		printf "| %s | %s | %d | %.1f%s | %s%.1f | %.1f (%.1f) | %.1f | %d | %d, %d | %s |\n", \
			label(k), src[k], start[k], share[k], sat[k] ? " (saturated)" : "", \
			sat[k] ? "> " : "", per[k], rss[k] / 1024, hwm[k] / 1024, \
			100 * dbus[k] / t, samples[k] / secs[k], rsig[k] / secs[k], usig[k] / secs[k], lat
	}
	printf "\n"
	printf "Saturated: coldroomd at 95%% of a core or more, or signals more than 10 s\n"
	printf "behind their samples. It fell behind the readings (from the device:\n"
	printf "overflow records, then a batch re-read of every unit), so its CPU per\n"
	printf "reading is a lower bound and its signals lag or never come.\n\n"
	k = "device-unit-signals"
	printf "Target: coldroomd under %d%% of a core at %d units and 1 Hz. Measured here,\n", target, units
	printf "under TCG emulation: %.1f%% with the default configuration (**%s**) and\n", share[k], share[k] < target ? "met" : "missed"
	printf "%.1f%% with the Readings signal only (**%s**). Under TCG every instruction of\n", share["device"], share["device"] < target ? "met" : "missed"
	printf "the daemon, of libsystemd and of the kernel is translated in software.\n\n"
	printf "Ratios from the same run, which depend far less on the emulator than the absolute numbers:\n\n"
	if (per["device"] > 0 && syscall_ns[units] > 0)
		printf "- coldroomd spends %.1f empty system calls'\'' worth of CPU per reading (Readings signal only; %.1f with per-unit signals). At the 50-100 ns of an empty system call on current hardware that would be roughly %.0f-%.0f%% of a core for %d readings per second.\n", \
			per["device"] * 1000 / syscall_ns[units], per[k] * 1000 / syscall_ns[units], \
			per["device"] * 1000 / syscall_ns[units] * 50e-9 * units * 100, \
			per["device"] * 1000 / syscall_ns[units] * 100e-9 * units * 100, units
	if (per["device"] > 0 && per["sysfs"] > 0)
		printf "- Reading from `/dev/coldroom` costs the daemon %s%.1fx less CPU per reading than the sysfs fallback (%.1f against %s%.1f us).\n", \
			sat["sysfs"] ? "at least " : "", per["sysfs"] / per["device"], per["device"], \
			sat["sysfs"] ? "more than " : "", per["sysfs"]
	if (per["device"] > 0 && per[k] > 0)
		printf "- Per-unit PropertiesChanged signals cost %s%.1fx the CPU of the Readings signal alone; large sites turn them off (`UnitPropertiesChanged=no`).\n", \
			sat[k] ? "at least " : "", per[k] / per["device"]
	printf "\n"
}' "$results"


# A Prometheus scrape of every unit, in its own marked section (run.sh
# --scrape-only replaces it alone).
"$(dirname "$0")/report-scrape.sh" "$results"
