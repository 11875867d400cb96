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

cat <<'TAIL'
## Not yet measured

| what | target | status |
|---|---|---|
| coldroomd CPU share, 10,000 units at 1 Hz, over 60 s | < 1% of a core | **not yet measured**: coldroomd still reads sysfs; its switch to `/dev/coldroom` and netlink is a later step |
| coldroomd RSS, 10,000 units | (reported) | **not yet measured**, as above |
| latency sample -> D-Bus signal, p50 / p99 | (reported) | **not yet measured**, as above |
TAIL
