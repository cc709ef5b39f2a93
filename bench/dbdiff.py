#!/usr/bin/env python3
"""Row-level database write counter, from outside the process.

  dbdiff.py snapshot DB OUT     -- every row of every table, as a digest keyed by primary key
  dbdiff.py diff BEFORE AFTER   -- JSON: rows inserted / updated / deleted, per table and in total

The product's own counter (Store::write_stats) is not visible from the CLI, so the benchmark
compares two snapshots of the SQLite file taken between runs (no process holds it then). A row
written twice in one cycle counts once, a row rewritten with identical content counts zero: this
is the net change the cycle made, which is what "writes proportional to what changed" is about.
The product's write_stats counts the same changed rows per statement (SQLite's changes()).
"""
import hashlib
import json
import pickle
import sqlite3
import sys


def snapshot(db, out):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    snap = {}
    for t in tables:
        cols = con.execute(f'PRAGMA table_info("{t}")').fetchall()
        pk = [c[1] for c in sorted(cols, key=lambda c: c[5]) if c[5] > 0]
        names = [c[1] for c in cols]
        key_sql = ", ".join(f'"{c}"' for c in pk) if pk else "rowid"
        all_sql = ", ".join(f'"{c}"' for c in names)
        rows = {}
        for r in con.execute(f'SELECT {key_sql}, {all_sql} FROM "{t}"'):
            k = r[: len(pk) or 1]
            rows[k] = hashlib.blake2b(repr(r[len(pk) or 1:]).encode(), digest_size=12).digest()
        snap[t] = rows
    con.close()
    with open(out, "wb") as f:
        pickle.dump(snap, f)


def diff(before, after):
    with open(before, "rb") as f:
        a = pickle.load(f)
    with open(after, "rb") as f:
        b = pickle.load(f)
    tables = {}
    total = {"inserted": 0, "updated": 0, "deleted": 0, "rows": 0}
    existing = 0
    for t in sorted(set(a) | set(b)):
        ra, rb = a.get(t, {}), b.get(t, {})
        existing += len(rb)
        ins = sum(1 for k in rb if k not in ra)
        dele = sum(1 for k in ra if k not in rb)
        upd = sum(1 for k, v in rb.items() if k in ra and ra[k] != v)
        if ins or dele or upd:
            tables[t] = {"inserted": ins, "updated": upd, "deleted": dele}
        total["inserted"] += ins
        total["updated"] += upd
        total["deleted"] += dele
    total["rows"] = total["inserted"] + total["updated"] + total["deleted"]
    print(json.dumps({"total": total, "tables": tables, "rows_existing": existing}))


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        snapshot(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: dbdiff.py snapshot DB OUT | diff BEFORE AFTER")
