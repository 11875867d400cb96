#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The record's hash chains reimplemented from their contract alone
(daemon/recorder/RECORD.md, "The hash chains"; daemon/uplink/MQTT.md,
"Holding the chain"), for the tests that play the attacker and the
consumer off the host:

  chain.py rewrite DB SEQ COLUMN VALUE
      set one column of record row SEQ (an integer) and recompute the
      hash of it and every later row, and the head in meta: a rewrite
      the chain walk alone cannot see.
  chain.py mqtt FILE
      FILE holds interval/gap payloads (or event payloads), one JSON
      object a line as the broker delivered them; de-duplicate by seq,
      check each payload's hash against its fields and that each row
      chains from the one before. Prints "SEQ HASH" of each row; exits 1
      on a break.
"""
import hashlib
import json
import sqlite3
import struct
import sys

RECORD_COLUMNS = ["seq", "start_us", "end_us", "serial", "probe", "n", "min", "mean", "max",
                  "status", "samples_sha256"]
AUDIT_COLUMNS = ["seq", "time_us", "event", "serial", "probe", "uid", "user", "what",
                 "old_value", "new_value", "reading", "detail"]
STATUS = ["ok", "no-data", "probe-fault", "unit-gone", "not-running", "clock-jump",
          "not-written"]


def encode(v):
    if v is None:
        return b"N"
    if isinstance(v, bool):
        raise TypeError("no booleans in the record")
    if isinstance(v, int):
        return b"I" + struct.pack("<q", v)
    if isinstance(v, float):
        return b"F" + struct.pack("<d", v)
    if isinstance(v, str):
        b = v.encode()
        return b"T" + struct.pack("<Q", len(b)) + b
    if isinstance(v, (bytes, bytearray)):
        return b"B" + struct.pack("<Q", len(v)) + bytes(v)
    raise TypeError(type(v))


def row_hash(table, prev, values):
    h = hashlib.sha256(b"coldroom-record-v1\0" + table.encode() + b"\0" + prev)
    for v in values:
        h.update(encode(v))
    return h.digest()


def rewrite(path, seq, column, value):
    if column not in RECORD_COLUMNS[1:]:
        sys.exit("chain.py: not a hashed column of record: " + column)
    db = sqlite3.connect(path)
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE record SET %s = ? WHERE seq = ?" % column, (int(value), seq))
    prev = db.execute("SELECT hash FROM record WHERE seq = ?", (seq - 1,)).fetchone()
    if prev is None:
        prev = db.execute("SELECT value FROM meta WHERE key = 'record_base_hash'").fetchone()
    prev = prev[0] if prev else bytes(32)
    cur = db.execute("SELECT %s FROM record WHERE seq >= ? ORDER BY seq"
                     % ", ".join(RECORD_COLUMNS), (seq,)).fetchall()
    for values in cur:
        prev = row_hash("record", prev, values)
        db.execute("UPDATE record SET hash = ? WHERE seq = ?", (prev, values[0]))
    db.execute("UPDATE meta SET value = ? WHERE key = 'record_head_hash'", (prev,))
    db.commit()
    print("rewrote rows %d..%d" % (seq, cur[-1][0]))


def from_payload(p):
    """The hashed values of a payload, per MQTT.md's recipe."""
    if "event" in p:
        return "audit", [p["seq"], p["time_us"], p["event"], p["serial"], p["probe"],
                         p.get("uid"), p.get("user"), p.get("what"), p.get("old_value"),
                         p.get("new_value"), p.get("reading_mdeg"), p.get("detail")]
    digest = p["samples_sha256"]
    return "record", [p["seq"], p["start_us"], p["end_us"], p["serial"], p["probe"],
                      p["samples"], p["min_mdeg"], p["mean_mdeg"], p["max_mdeg"],
                      STATUS.index(p["status"]),
                      bytes.fromhex(digest) if digest is not None else None]


def mqtt(path):
    rows = {}
    for line in open(path):
        line = line.strip()
        if line:
            p = json.loads(line)
            rows.setdefault(p["seq"], p)
    ok = True
    last = None
    for seq in sorted(rows):
        p = rows[seq]
        table, values = from_payload(p)
        h = row_hash(table, bytes.fromhex(p["prev_hash"]), values)
        if h.hex() != p["hash"]:
            print("row %d: its fields do not give its hash" % seq)
            ok = False
        if last is not None and last[0] == seq - 1 and last[1] != p["prev_hash"]:
            print("row %d: does not chain from row %d" % (seq, seq - 1))
            ok = False
        last = (seq, p["hash"])
        print(seq, p["hash"])
    sys.exit(0 if ok and rows else 1)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "rewrite":
        rewrite(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif len(sys.argv) == 3 and sys.argv[1] == "mqtt":
        mqtt(sys.argv[2])
    else:
        sys.exit(__doc__)
