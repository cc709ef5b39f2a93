#!/usr/bin/env bash
# The benchmark of SPEC §10: builds the release binaries, generates the scenario, starts the
# simulator, runs the cycles (bench/bench.py) and prints a table of the budgets.
# Exit status: 0 every budget passed, 1 a budget failed, 2 the benchmark could not run.
#
# Environment (all optional):
#   BENCH_SITES=100 BENCH_NATIVES=10 BENCH_CONSOLES=4   the scenario (live policies per site =
#                                                       sites x natives after the first sync)
#   BENCH_LATENCY_MS=50      latency of the latency run
#   BENCH_NOOP_RUNS=3        no-op cycles (CPU time is their median)
#   BENCH_SKIP_BUILD=1       use target/release as it is
#   BENCH_KEEP=1             keep the work directory (database, reports, logs)
#   BENCH_JSON=FILE          also write the table as JSON
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
sites="${BENCH_SITES:-100}"
natives="${BENCH_NATIVES:-10}"
consoles="${BENCH_CONSOLES:-4}"
latency="${BENCH_LATENCY_MS:-50}"
noop_runs="${BENCH_NOOP_RUNS:-3}"

say() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing GNU time"
        apt-get install -y time >/dev/null || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
    else
        echo "error: /usr/bin/time (GNU time) is needed: apt-get install time" >&2
        exit 2
    fi
fi
command -v python3 >/dev/null || { echo "error: python3 is needed" >&2; exit 2; }

target="${CARGO_TARGET_DIR:-$root/target}"
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    say "building release binaries (cargo build --release -p unifi-dns-sync -p unifi-sim)"
    (cd "$root" && cargo build --release -p unifi-dns-sync -p unifi-sim) >&2
fi
bin="$target/release"
for b in unifi-dns-sync unifi-sim; do
    [ -x "$bin/$b" ] || { echo "error: $bin/$b is missing (run without BENCH_SKIP_BUILD)" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/unifi-dns-sync-bench.XXXXXX")"
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
        kill -TERM "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    if [ -n "${BENCH_KEEP:-}" ]; then
        say "work directory kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM

say "generating the scenario: $sites sites x $natives native policies over $consoles consoles"
python3 "$here/gen_scenario.py" "$work" --sites "$sites" --natives "$natives" --consoles "$consoles"

say "starting unifi-sim"
"$bin/unifi-sim" --scenario "$work/scenario.toml" --no-pem >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 600); do
    [ "$(grep -c '^{' "$work/sim.out" 2>/dev/null || true)" -ge "$consoles" ] && break
    kill -0 "$sim_pid" 2>/dev/null || { echo "error: unifi-sim stopped:" >&2; cat "$work/sim.err" >&2; exit 2; }
    sleep 0.1
done
[ "$(grep -c '^{' "$work/sim.out" || true)" -ge "$consoles" ] || { echo "error: unifi-sim did not start" >&2; exit 2; }

say "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
python3 "$here/bench.py" --bin "$bin" --work "$work" --sim-out "$work/sim.out" --meta "$work/meta.json" \
    --latency-ms "$latency" --noop-runs "$noop_runs" ${BENCH_JSON:+--json-out "$BENCH_JSON"} || status=$?
exit "$status"
