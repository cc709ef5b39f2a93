#!/usr/bin/env python3
"""The benchmark driver: runs the cycles against a running simulator and checks SPEC section 10.

Called by bench/run.sh, which builds the binaries, generates the scenario and starts
`unifi-sim`; see bench/README.md. Standard library only.

    bench.py --bin DIR --work DIR --sim-out FILE --meta FILE [--latency-ms 50] [--noop-runs 3]

Steps, all against the same simulator and database:
  1. first sync  (empty database: every copy is created)
  2. no-op sync x N  (nothing changed: reads only; CPU time, peak RSS, requests, DB rows)
  3. latency run  (latency_ms on every console, one more no-op cycle: cycle time vs the bound)
  4. small change  (one native record edited at one site: API writes and DB rows)
Prints a table; exit status 1 when a budget fails, 2 when the benchmark itself could not run.
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, HERE)
import dbdiff  # noqa: E402

# Tables whose rows are per record (or per record and site); a no-op cycle must not touch them.
RECORD_TABLES = ("dns_records", "record_origins", "synced_copies", "sync_events", "conflicts")
# Rows one change may cost: a changed copy = registry row re-pointed (delete + insert, its key
# holds the record id) + one sync event = 3; a changed native record = record + origin replaced = 4.
ROWS_PER_CHANGE = 4
PAGE_LIMIT = 200
CPU_BUDGET_S = 2.0
RSS_BUDGET_MIB = 150.0
LATENCY_FACTOR = 1.5


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------- simulator control

class Sim:
    def __init__(self, sim_out):
        self.consoles = []
        with open(sim_out) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    self.consoles.append(json.loads(line))
        if not self.consoles:
            raise BenchError(f"no console lines in {sim_out}")
        self.control = self.consoles[0]["control_url"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.control + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=120) as r:
            text = r.read()
        return json.loads(text) if text else None

    def reset_counters(self):
        self.call("POST", "/__sim/counters/reset")

    def counters(self):
        return self.call("GET", "/__sim/counters")["consoles"]

    def set_latency(self, ms):
        for c in self.consoles:
            self.call("PUT", f"/__sim/consoles/{c['name']}/faults", {"latency_ms": ms})

    def clear_faults(self):
        for c in self.consoles:
            self.call("DELETE", f"/__sim/consoles/{c['name']}/faults")

    def live_policies(self):
        """console -> [live policies per site], from the simulator's own state."""
        out = {}
        for c in self.consoles:
            state = self.call("GET", f"/__sim/consoles/{c['name']}/state")
            out[c["name"]] = [len(s["policies"]) for s in state["sites"]]
        return out


# --------------------------------------------------------------------------- the product

def write_config(path, db, sim, keys):
    text = (f'[database]\nurl = "{db}"\n\n[sync]\ninterval = "5m"\n\n'
            '[web]\nlisten = "127.0.0.1:0"\n')
    for c in sim.consoles:
        var = keys[c["name"]]
        text += (f'\n[[controller]]\nname = "{c["name"]}"\nurl = "{c["base_url"]}"\n'
                 f'api_key_env = "{var}"\ntls = {{ fingerprint = "{c["cert_fingerprint"]}" }}\n'
                 # The spec's defaults for writes and reads; the rate limit is raised so that it
                 # never binds (the latency bound is about concurrency, not about the rate).
                 'max_parallel_writes = 1\nmax_parallel_reads = 4\n'
                 'requests_per_second = 1000\ntimeout = "30s"\n')
    with open(path, "w") as f:
        f.write(text)


def product_env(sim, keys):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("UNIFI_DNS_SYNC")
           and k not in ("CONFIG_PATH", "SYNC_INTERVAL_SECONDS", "DB_PATH", "LOG_LEVEL",
                         "WEB_UI_PORT", "RUST_LOG")}
    for c in sim.consoles:
        env[keys[c["name"]]] = c["api_key"]
    return env


class Cycle:
    """One `unifi-dns-sync sync --output json` under GNU time."""

    def __init__(self, name, args, work, env):
        self.name = name
        tfile = os.path.join(work, f"{name}.time")
        out = os.path.join(work, f"{name}.json")
        err = os.path.join(work, f"{name}.err")
        cmd = ["/usr/bin/time", "-o", tfile, "-f", "%e %U %S %M %O"] + args
        t0 = time.monotonic()
        with open(out, "w") as o, open(err, "w") as e:
            rc = subprocess.call(cmd, stdout=o, stderr=e, env=env, stdin=subprocess.DEVNULL)
        self.elapsed_outer = time.monotonic() - t0
        self.err_path = err
        if rc != 0:
            tail = open(err).read()[-3000:]
            raise BenchError(f"{name}: unifi-dns-sync exited {rc}\n{tail}")
        line = open(tfile).read().strip().splitlines()[-1]
        wall, user, sys_, rss_kb, fs_out = line.split()
        self.wall = float(wall)
        self.cpu = float(user) + float(sys_)
        self.user, self.sys = float(user), float(sys_)
        self.rss_mib = int(rss_kb) / 1024.0
        self.fs_out_bytes = int(fs_out) * 512
        self.report = json.load(open(out))
        self.counts = self.report["counts"]
        self.cycle_s = (parse_ts(self.report["finished_at"])
                        - parse_ts(self.report["started_at"])).total_seconds()
        if self.report["outcome"].lower() != "success":
            raise BenchError(f"{name}: outcome {self.report['outcome']}")


def parse_ts(s):
    # RFC 3339 with up to 9 fractional digits; Python takes 6.
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", s)
    if not m:
        raise BenchError(f"unexpected timestamp {s}")
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{tz}")


def network_phase(err_path):
    """(first request start, last response) from the `-v` log lines of the client."""
    starts, ends = [], []
    pat = re.compile(r"^(\S+Z)\s+DEBUG\s+unifi_client::client: UniFi API request .*duration_ms=(\d+)")
    for line in open(err_path):
        m = pat.match(line)
        if m:
            end = parse_ts(m.group(1))
            ends.append(end)
            starts.append(end.timestamp() - int(m.group(2)) / 1000.0)
    if not ends:
        return None
    return min(starts), max(ends).timestamp()


# --------------------------------------------------------------------------- measurements

def snapshot(db, path):
    if os.path.exists(db):
        dbdiff.snapshot(db, path)
    else:
        import pickle
        with open(path, "wb") as f:
            pickle.dump({}, f)


def db_diff(before, after):
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        dbdiff.diff(before, after)
    return json.loads(buf.getvalue())


def requests_by_console(counters):
    out = {}
    for name, c in counters.items():
        by = {}
        for r in c["requests"]:
            key = (r["method"], r["path"])
            by[key] = by.get(key, 0) + r["count"]
        out[name] = {"total": c["total"], "writes": c["writes"], "by": by,
                     "statuses": sorted({r["status"] for r in c["requests"]})}
    return out


def required_reads(live):
    """console -> {(GET, path): pages}: the reads a cycle cannot avoid, one per page."""
    out = {}
    for name, sites in live.items():
        need = {
            ("GET", "/v1/info"): 1,
            ("GET", "/v1/sites"): max(1, math.ceil(len(sites) / PAGE_LIMIT)),
            ("GET", "/v1/sites/{siteId}/dns/policies"):
                sum(max(1, math.ceil(n / PAGE_LIMIT)) for n in sites),
        }
        out[name] = {k: v for k, v in need.items() if v}
    return out


# --------------------------------------------------------------------------- the table

class Table:
    def __init__(self):
        self.rows = []
        self.info = []

    def check(self, what, measured, budget, ratio, ok, note=""):
        self.rows.append((what, measured, budget, f"{ratio:.2f}", "PASS" if ok else "FAIL", note))

    def note(self, what, value):
        self.info.append((what, value))

    def print(self):
        head = ("budget (SPEC §10)", "measured", "budget", "ratio", "result")
        widths = [max(len(str(r[i])) for r in self.rows + [head]) for i in range(5)]
        line = "  ".join("-" * w for w in widths)
        fmt = lambda r: "  ".join(str(r[i]).ljust(widths[i]) for i in range(5))
        print(fmt(head))
        print(line)
        for r in self.rows:
            print(fmt(r))
        notes = [(r[0], r[5]) for r in self.rows if r[5]]
        if notes:
            print("\nnotes:")
            for what, note in notes:
                print(f"  - {what}: {note}")
        if self.info:
            print("\nother measurements (no budget):")
            w = max(len(a) for a, _ in self.info)
            for a, b in self.info:
                print(f"  {a.ljust(w)}  {b}")

    def failed(self):
        return [r[0] for r in self.rows if r[4] == "FAIL"]

    def to_json(self):
        return {"checks": [dict(zip(("what", "measured", "budget", "ratio", "result", "note"), r))
                           for r in self.rows],
                "info": dict(self.info)}


def mb(x):
    return f"{x:.1f} MiB"


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--sim-out", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--noop-runs", type=int, default=3)
    ap.add_argument("--json-out")
    args = ap.parse_args()

    meta = json.load(open(args.meta))
    sim = Sim(args.sim_out)
    work = args.work
    db = os.path.join(work, "dns_sync.db")
    config = os.path.join(work, "unifi-dns-sync.toml")
    keys = {c["name"]: f"BENCH_KEY_{c['name'].upper()}" for c in sim.consoles}
    write_config(config, db, sim, keys)
    env = product_env(sim, keys)
    exe = os.path.join(args.bin, "unifi-dns-sync")
    base = [exe, "--config", config]
    sync = base + ["sync", "--output", "json"]
    n_sites = meta["sites"]
    n_natives = n_sites * meta["natives_per_site"]
    n_consoles = len(sim.consoles)
    t = Table()
    log = lambda m: print(f"[bench {time.strftime('%H:%M:%S')}] {m}", file=sys.stderr, flush=True)

    # 1. First sync: empty database, every copy is created.
    expected_creates = n_natives * (n_sites - 1)
    snapshot(db, os.path.join(work, "s0.pkl"))
    sim.reset_counters()
    log(f"first sync: {n_sites} sites, {n_natives} native records, {expected_creates} copies to create")
    first = Cycle("first", sync, work, env)
    snapshot(db, os.path.join(work, "s1.pkl"))
    d_first = db_diff(os.path.join(work, "s0.pkl"), os.path.join(work, "s1.pkl"))
    if first.counts["created"] != expected_creates:
        raise BenchError(f"first sync created {first.counts['created']}, expected {expected_creates}")
    live = sim.live_policies()
    live_counts = sorted({n for sites in live.values() for n in sites})
    log(f"first sync done in {first.wall:.1f} s; live policies per site: {live_counts}")

    # 2. No-op cycles.
    noops = []
    for i in range(args.noop_runs):
        sim.reset_counters()
        before = os.path.join(work, f"n{i}a.pkl")
        after = os.path.join(work, f"n{i}b.pkl")
        snapshot(db, before)
        c = Cycle(f"noop{i + 1}", sync, work, env)
        snapshot(db, after)
        c.requests = requests_by_console(sim.counters())
        c.db = db_diff(before, after)
        noops.append(c)
        log(f"no-op {i + 1}: cycle {c.cycle_s:.2f} s, CPU {c.cpu:.2f} s, peak RSS {mb(c.rss_mib)}, "
            f"DB rows {c.db['total']['rows']}")

    # 3. Latency: the same no-op cycle with latency on every console.
    sim.set_latency(args.latency_ms)
    sim.reset_counters()
    log(f"latency run: {args.latency_ms} ms on every console")
    lat = Cycle("latency", base + ["-v", "sync", "--output", "json"], work, env)
    lat.requests = requests_by_console(sim.counters())
    sim.clear_faults()
    log(f"latency run: cycle {lat.cycle_s:.2f} s")

    # 4. Small change: one native record edited at one site.
    ch = meta["change"]
    sim.call("PUT", f"/__sim/consoles/{ch['console']}/sites/{ch['site']}/policies/{ch['policy_id']}",
             ch["body"])
    sim.reset_counters()
    before, after = os.path.join(work, "c_a.pkl"), os.path.join(work, "c_b.pkl")
    snapshot(db, before)
    log(f"small change: {ch['body']['domain']} at {ch['console']}/{ch['site']} -> "
        f"{ch['body'].get('ipv4Address')}")
    change = Cycle("change", sync, work, env)
    snapshot(db, after)
    change.requests = requests_by_console(sim.counters())
    change.db = db_diff(before, after)

    # ------------------------------------------------------------------- checks
    required = required_reads(live)
    busiest = max(required, key=lambda n: sum(required[n].values()))

    # (a) No-op: one request per page, no writes.
    first_noop = noops[0]
    for name in sorted(required):
        need = sum(required[name].values())
        got = first_noop.requests.get(name, {"total": 0})["total"]
        bad = []
        for c in noops:
            by = c.requests.get(name, {"by": {}})["by"]
            if by != required[name]:
                bad.append(f"{c.name}: " + ", ".join(f"{m} {p} x{n}" for (m, p), n in sorted(by.items())))
        pages = required[name].get(("GET", "/v1/sites/{siteId}/dns/policies"), 0)
        t.check(f"no-op requests, {name} ({len(live[name])} sites)", got, f"= {need}",
                got / need, not bad,
                ("got " + "; ".join(bad)) if bad else
                (f"required = GET info 1 + GET sites 1 + {pages} GET policy pages (limit {PAGE_LIMIT}); "
                 f"each of the {len(noops)} no-op runs read exactly these" if name == busiest else ""))
    writes = [sum(r["writes"] for r in c.requests.values()) for c in noops]
    planned = [c.counts["planned"] for c in noops]
    t.check("no-op API writes (all consoles)", max(writes), "0", 0.0 if max(writes) == 0 else float("inf"),
            max(writes) == 0 and max(planned) == 0,
            f"per run {writes}; planned actions {planned}")

    # (b) Cycle time under latency vs the bound.
    reads = max(sum(r["by"].values()) for r in lat.requests.values())
    busiest_lat = max(lat.requests, key=lambda n: lat.requests[n]["total"])
    conc = 4
    bound = reads * args.latency_ms / 1000.0 / conc
    limit = LATENCY_FACTOR * bound
    phase = network_phase(lat.err_path)
    note = (f"bound = {reads} requests on {busiest_lat} x {args.latency_ms} ms / "
            f"max_parallel_reads {conc} = {bound:.2f} s; cycle/bound = {lat.cycle_s / bound:.2f} "
            f"(budget {LATENCY_FACTOR}); process wall {lat.wall:.2f} s")
    if phase:
        start = parse_ts(lat.report["started_at"]).timestamp()
        end = parse_ts(lat.report["finished_at"]).timestamp()
        net = phase[1] - phase[0]
        note += (f"; split: {phase[0] - start:.2f} s local before the first request, "
                 f"{net:.2f} s requests ({net / bound:.2f} x bound), "
                 f"{end - phase[1]:.2f} s local after the last")
    lat_writes = sum(r["writes"] for r in lat.requests.values())
    t.check(f"cycle time at {args.latency_ms} ms latency", f"{lat.cycle_s:.2f} s",
            f"<= {limit:.2f} s", lat.cycle_s / limit, lat.cycle_s <= limit and lat_writes == 0, note)

    # (c) Peak memory and CPU time of a no-op cycle at this scale.
    scale = f"{n_sites} sites x {live_counts[-1] if live_counts else 0} live policies"
    all_runs = [first] + noops + [lat, change]
    peak = max(all_runs, key=lambda c: c.rss_mib)
    t.check(f"peak RSS ({scale})", mb(peak.rss_mib), f"< {RSS_BUDGET_MIB:.0f} MiB",
            peak.rss_mib / RSS_BUDGET_MIB, peak.rss_mib < RSS_BUDGET_MIB,
            "max over every cycle of the run, in " + peak.name + "; per cycle: "
            + ", ".join(f"{c.name} {c.rss_mib:.0f}" for c in all_runs))
    cpus = [c.cpu for c in noops]
    cpu = statistics.median(cpus)
    t.check("no-op CPU time (user+sys, median)", f"{cpu:.2f} s", f"< {CPU_BUDGET_S:.1f} s",
            cpu / CPU_BUDGET_S, cpu < CPU_BUDGET_S,
            f"{len(cpus)} no-op runs: " + ", ".join(f"{c.cpu:.2f} s ({c.user:.2f} user + {c.sys:.2f} sys)"
                                                   for c in noops))

    # (d) Database writes proportional to what changed.
    bookkeeping = n_sites + n_consoles + 2  # sites.last_synced, controllers, the run row
    worst = max(noops, key=lambda c: c.db["total"]["rows"])
    rec_rows = max(sum(sum(v.values()) for k, v in c.db["tables"].items() if k in RECORD_TABLES)
                   for c in noops)
    t.check("no-op DB rows in record tables", rec_rows, "0", 0.0 if rec_rows == 0 else float("inf"),
            rec_rows == 0, "dns_records, record_origins, synced_copies, sync_events, conflicts")
    rows = worst.db["total"]["rows"]
    t.check("no-op DB rows, all tables", rows, f"<= {bookkeeping}", rows / bookkeeping,
            rows <= bookkeeping,
            f"of {worst.db['rows_existing']} rows; by table {json.dumps(worst.db['tables'])}; "
            f"budget = one row per site + per controller + the run")

    ch_writes = sum(r["writes"] for r in change.requests.values())
    ch_changes = ch_writes + 1  # the copies written + the one native record that changed
    baseline = max(c.db["total"]["rows"] for c in noops)
    ch_rows = change.db["total"]["rows"]
    per_change = (ch_rows - baseline) / ch_changes
    t.check("small change: API writes", ch_writes, f"= {n_sites - 1}",
            ch_writes / (n_sites - 1), ch_writes == n_sites - 1 and change.counts["updated"] == n_sites - 1,
            f"1 record edited at 1 site -> one update per other site; counts {change.counts['updated']} updated")
    t.check("small change: DB rows per change", f"{per_change:.2f}", f"<= {ROWS_PER_CHANGE}",
            per_change / ROWS_PER_CHANGE, per_change <= ROWS_PER_CHANGE,
            f"{ch_rows} rows written ({ch_rows - baseline} above the no-op's {baseline}) for "
            f"{ch_changes} changes ({ch_writes} copies + 1 record) out of "
            f"{change.db['rows_existing']} rows; by table {json.dumps(change.db['tables'])}")
    f_changes = first.counts["created"] + n_natives
    f_rows = d_first["total"]["rows"]
    f_per = (f_rows - bookkeeping) / f_changes
    t.check("first sync: DB rows per change", f"{f_per:.2f}", f"<= {ROWS_PER_CHANGE}",
            f_per / ROWS_PER_CHANGE, f_per <= ROWS_PER_CHANGE,
            f"{f_rows} rows for {f_changes} changes ({first.counts['created']} copies + "
            f"{n_natives} records); by table {json.dumps(d_first['tables'])}")

    # Other numbers.
    t.note("scale", f"{n_consoles} consoles ({', '.join(f'{n}: {len(s)} sites' for n, s in live.items())}), "
                    f"{n_natives} native records, live policies per site {live_counts}, "
                    f"{sum(sum(s) for s in live.values())} in all")
    t.note("first sync", f"{first.wall:.1f} s wall, {first.counts['created']} creates "
                         f"({first.counts['created'] / max(first.cycle_s, 1e-9):.0f}/s), CPU {first.cpu:.1f} s "
                         f"({first.user:.1f} user + {first.sys:.1f} sys), peak RSS {mb(first.rss_mib)}")
    t.note("first sync disk writes", f"{first.fs_out_bytes / 1e6:.0f} MB written by the process "
                                     f"({first.fs_out_bytes / max(first.counts['created'], 1) / 1e3:.1f} kB per create)")
    t.note("no-op cycles", "; ".join(f"{c.name}: cycle {c.cycle_s:.2f} s, wall {c.wall:.2f} s, "
                                     f"disk {c.fs_out_bytes / 1e3:.0f} kB" for c in noops))
    t.note("small change cycle", f"cycle {change.cycle_s:.2f} s, CPU {change.cpu:.2f} s, "
                                 f"peak RSS {mb(change.rss_mib)}, disk {change.fs_out_bytes / 1e3:.0f} kB")
    t.note("latency run", f"requests per console "
                          + ", ".join(f"{n} {r['total']}" for n, r in sorted(lat.requests.items()))
                          + f"; CPU {lat.cpu:.2f} s")

    print()
    t.print()
    failed = t.failed()
    print()
    print("RESULT: " + ("PASS" if not failed else f"FAIL ({len(failed)}: {'; '.join(failed)})"))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(t.to_json(), f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"benchmark error: {e}", file=sys.stderr)
        sys.exit(2)
