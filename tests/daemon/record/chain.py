#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The record's hash chains reimplemented from their contract alone
(daemon/recorder/RECORD.md, "The hash chains"; daemon/uplink/MQTT.md,
"Holding the chain"), for the tests that play the attacker and the
consumer off the host:

  chain.py rewrite DB SEQ COLUMN VALUE
      set one column of record row SEQ (an integer) and recompute the
      hash of it and every later row, and the head in meta: a rewrite
      the chain walk alone cannot see. Through the sqlite3 command (the
      test VM's python3-minimal has no sqlite3 module).
  chain.py mqtt FILE
      FILE holds interval/gap payloads (or event payloads), one JSON
      object a line as the broker delivered them; de-duplicate by seq,
      check each payload's hash against its fields and that each row
      chains from the one before. Prints "SEQ HASH" of each row; exits 1
      on a break.
"""
import hashlib
import struct
import subprocess
import sys

RECORD_COLUMNS = ["seq", "start_us", "end_us", "serial", "probe", "n", "min", "mean", "max",
                  "status", "samples_sha256", "lost", "lost_why"]
# Schema 1 had no lost columns: a row with both NULL is hashed without them.
RECORD_V1 = 11
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


def record_values(values):
    """A record row's hashed values: without lost, lost_why when both are NULL."""
    if len(values) > RECORD_V1 and all(v is None for v in values[RECORD_V1:]):
        return values[:RECORD_V1]
    return values


def row_hash(table, prev, values):
    if table == "record":
        values = record_values(values)
    h = hashlib.sha256(b"coldroom-record-v1\0" + table.encode() + b"\0" + prev)
    for v in values:
        h.update(encode(v))
    return h.digest()


def literal(text):
    """A value of SQLite's quote(): NULL, an integer, a real, 'text', X'blob'."""
    if text == "NULL":
        return None
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text.startswith("X'"):
        return bytes.fromhex(text[2:-1])
    return float(text) if "." in text or "e" in text.lower() else int(text)


def sql(path, query):
    out = subprocess.run(["sqlite3", "-batch", "-noheader", "-separator", "\x1f", path, query],
                         check=True, capture_output=True, text=True).stdout
    return [[literal(v) for v in line.split("\x1f")] for line in out.splitlines()]


def rewrite(path, seq, column, value):
    if column not in RECORD_COLUMNS[1:]:
        sys.exit("chain.py: not a hashed column of record: " + column)
    have = [r[0] for r in sql(path, "SELECT quote(name) FROM pragma_table_info('record')")]
    quoted = ", ".join("quote(%s)" % c if c in have else "NULL" for c in RECORD_COLUMNS)
    prev = sql(path, "SELECT quote(hash) FROM record WHERE seq = %d" % (seq - 1))
    if not prev:
        prev = sql(path, "SELECT quote(value) FROM meta WHERE key = 'record_base_hash'")
    prev = prev[0][0] if prev else bytes(32)
    rows = sql(path, "SELECT %s FROM record WHERE seq >= %d ORDER BY seq" % (quoted, seq))
    if not rows or rows[0][0] != seq:
        sys.exit("chain.py: no record row %d" % seq)
    rows[0][RECORD_COLUMNS.index(column)] = int(value)
    script = ["BEGIN IMMEDIATE;",
              "UPDATE record SET %s = %d WHERE seq = %d;" % (column, int(value), seq)]
    for values in rows:
        prev = row_hash("record", prev, values)
        script.append("UPDATE record SET hash = X'%s' WHERE seq = %d;" % (prev.hex(), values[0]))
    script.append("UPDATE meta SET value = X'%s' WHERE key = 'record_head_hash';" % prev.hex())
    script.append("COMMIT;")
    subprocess.run(["sqlite3", "-batch", path], input="\n".join(script), check=True, text=True)
    print("rewrote rows %d..%d" % (seq, rows[-1][0]))


def from_payload(p):
    """The hashed values of a payload, per MQTT.md's recipe."""
    if "event" in p:
        return "audit", [p["seq"], p["time_us"], p["event"], p["serial"], p["probe"],
                         p.get("uid"), p.get("user"), p.get("what"), p.get("old_value"),
                         p.get("new_value"), p.get("reading_mdeg"), p.get("detail")]
    digest = p["samples_sha256"]
    return "record", [p["seq"], p["start_us"], p["end_us"], p["serial"], p["probe"],
                      p["samples"], p["min_mdeg"], p["mean_mdeg"], p["max_mdeg"],
                      p["status_code"],
                      bytes.fromhex(digest) if digest is not None else None] + \
        ([None, None] if p.get("lost_why_code") is None else [p["lost"], p["lost_why_code"]])


def mqtt(path):
    import json

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
