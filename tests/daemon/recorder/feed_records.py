#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""feed_records.py - stands in for coldroom.ko in test_recorder_every.sh.

  feed_records.py tree SYS N
      SYS/class/coldroom/sensor0 .. sensorN-1 (serial SIM-<N, 6 digits>):
      the sysfs attributes coldroomd reads, firmware ready, no sample yet.

  feed_records.py feed FIFO SYS N SECONDS INTERVAL OUT [--fast K] [--excursion U]
                  [--skip U:COUNT] [--overflow U:COUNT]
      writes struct coldroom_record (the device's format) into FIFO
      (coldroomd --records-from) for SECONDS: units 0..K-1 three samples
      1 us apart every 120 ms (sent in one write, so that they always share
      a batch window), the others once a second, each at its
      own phase, stamped with CLOCK_MONOTONIC when sent, as the kernel
      stamps a sample when it takes it (a feeder held up by a busy machine
      takes fewer samples, never old ones).
      No sample is taken within 100 ms of an interval boundary (INTERVAL
      seconds), so that the test's wall clock and coldroomd's cannot put
      one in different intervals. Writes OUT: one line per unit and
      interval, "SERIAL START_US TAKEN MAX_TEMP1", TAKEN the samples the
      unit took there (sent or not).
      --excursion U: one sample of unit U, from the middle of the first
      whole interval, reads 5000 mdeg (its others -18000 and below).
      --skip U:COUNT: COUNT of unit U's samples from a second into the
      second whole interval are taken but never sent (a sample_seq jump).
      --overflow U:COUNT: as --skip, then what the kernel does when its
      ring overflows: an overflow record, and the unit's latest sample
      (the last of the COUNT) in sysfs, which coldroomd reads back. The
      other units' sysfs is not kept up to date: feed one unit only.
"""
import os
import struct
import sys
import time

RECORD = struct.Struct("<QQQQIIii")
F_VALID = 0x3
F_OVERFLOW = 1 << 31
UNIT_NONE = 0xFFFFFFFF
GUARD_NS = 100_000_000


def serial(n):
    return "SIM-%06d" % n


def put(path, value):
    with open(path, "w") as f:
        f.write(value + "\n")


def tree(sys_dir, n):
    base = os.path.join(sys_dir, "class", "coldroom")
    for u in range(n):
        d = os.path.join(base, "sensor%d" % u)
        os.makedirs(d, exist_ok=True)
        attrs = {
            "serial": serial(u), "model": "CRS-200", "label": "Room %d" % u,
            "temp1": "-18000", "temp2": "4000", "temp1_alarm": "0", "temp2_alarm": "0",
            "sample_seq": "0", "sample_time_ns": "0", "update_interval_ms": "1000",
            "firmware_name": "coldroom/CRS-200-%s.fw" % serial(u),
            "firmware_state": "ready", "firmware_error": "", "firmware_version": "1.0.0",
            "firmware_reload": "",
        }
        for c in (1, 2):
            attrs["temp%d_min" % c] = "-25000"
            attrs["temp%d_max" % c] = "8000"
            attrs["temp%d_hyst" % c] = "500"
        for k, v in attrs.items():
            put(os.path.join(d, k), v)


def arg_pair(v):
    u, c = v.split(":")
    return int(u), int(c)


def feed(argv):
    fifo, sys_dir, n, seconds, interval = argv[0], argv[1], int(argv[2]), float(argv[3]), int(argv[4])
    out = argv[5]
    fast, excursion, skip, overflow = 0, None, None, None
    rest = argv[6:]
    while rest:
        opt, val, rest = rest[0], rest[1], rest[2:]
        if opt == "--fast":
            fast = int(val)
        elif opt == "--excursion":
            excursion = int(val)
        elif opt == "--skip":
            skip = arg_pair(val)
        elif opt == "--overflow":
            overflow = arg_pair(val)
        else:
            sys.exit("feed_records.py: unknown option " + opt)
    interval_ns = interval * 1_000_000_000
    offset = time.clock_gettime_ns(time.CLOCK_REALTIME) - time.monotonic_ns()
    start = time.monotonic_ns() + 200_000_000
    end = start + int(seconds * 1e9)
    # The first whole interval's middle: the excursion; a second into the
    # next one: the losses (both within SECONDS from 2.5 intervals on).
    first_whole = ((start + offset) // interval_ns + 1) * interval_ns
    middle = first_whole + interval_ns // 2 - offset
    early = first_whole + interval_ns + 1_000_000_000 - offset

    period = [120_000_000 if u < fast else 1_000_000_000 for u in range(n)]
    phase = [(u * 7_919_000) % period[u] for u in range(n)]
    nxt = [start + phase[u] for u in range(n)]
    seq = [0] * n
    taken = {}
    maxes = {}
    special_done = set()
    dropping = {}
    fd = os.open(fifo, os.O_WRONLY)
    buf = []

    def flush():
        while buf:
            chunk, buf[:] = buf[:80], buf[80:]
            os.write(fd, b"".join(chunk))

    def emit(u, t):
        """Unit @u takes a sample stamped @t: sent, or lost on purpose."""
        real = t + offset
        seq[u] += 1
        temp1 = -18000 - (seq[u] % 5) * 100
        key = (u, real - real % interval_ns)
        if excursion == u and t >= middle and "excursion" not in special_done:
            special_done.add("excursion")
            temp1 = 5000
        taken[key] = taken.get(key, 0) + 1
        maxes[key] = max(maxes.get(key, -10**9), temp1)
        for which, spec in (("skip", skip), ("overflow", overflow)):
            if spec and spec[0] == u and t >= early and which not in special_done:
                special_done.add(which)
                dropping[u] = (which, spec[1])
        if u in dropping:
            which, left = dropping[u]
            if left > 0:
                dropping[u] = (which, left - 1)
                if left == 1 and which == "overflow":
                    # The kernel: the ring overflowed; sysfs has the latest.
                    d = os.path.join(sys_dir, "class", "coldroom", "sensor%d" % u)
                    put(os.path.join(d, "temp1"), str(temp1))
                    put(os.path.join(d, "temp2"), str(temp1 + 22000))
                    put(os.path.join(d, "sample_time_ns"), str(t))
                    put(os.path.join(d, "sample_seq"), str(seq[u]))
                    buf.append(RECORD.pack(0, overflow[1], 0, 0, UNIT_NONE, F_OVERFLOW, 0, 0))
                return
            del dropping[u]
        buf.append(RECORD.pack(0, seq[u], t, 0, u, F_VALID, temp1, temp1 + 22000))

    while True:
        now = time.monotonic_ns()
        if now >= end:
            break
        due = min(nxt)
        if due > now:
            flush()
            time.sleep(min((due - now) / 1e9, 0.005))
            continue
        for u in range(n):
            if nxt[u] > now:
                continue
            # Slots missed while the feeder waited for the CPU are not taken.
            while nxt[u] <= now:
                nxt[u] += period[u]
            t0 = time.monotonic_ns()
            if (t0 + offset) % interval_ns < GUARD_NS or \
                    (t0 + offset) % interval_ns > interval_ns - GUARD_NS:
                continue    # not near a boundary: no sample at all
            for k in range(3 if u < fast else 1):
                emit(u, t0 + k * 1000)
        flush()
    flush()
    os.close(fd)
    with open(out, "w") as f:
        for (u, st), c in sorted(taken.items()):
            f.write("%s %d %d %d\n" % (serial(u), st // 1000, c, maxes[(u, st)]))
    print("FED %d" % sum(seq))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "tree":
        tree(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) >= 8 and sys.argv[1] == "feed":
        feed(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
