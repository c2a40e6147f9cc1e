#!/usr/bin/env bash
# `make bench`: builds the release server and runs every benchmark suite in
# turn, then prints one summary table. Not part of `make test`.
#
# A suite is a script bench/<name>.sh that sources bench/lib.sh, measures with
# `measure` and records its rows in the shared results file; the list below
# names them in order (a missing one is skipped with a note). Run one suite:
#   BENCH_SUITES=certificates make bench
# Shorter runs while developing: BENCH_DURATION=5s BENCH_WARMUP=2s make bench
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${BENCH_SUITES:=certificates ce}"

need cargo "install Rust (see README)"
need wrk "install wrk (apt-get install wrk)"
need curl "install curl"

note "building the release server (cargo build --release -p guild-api)"
(cd "$REPO_DIR" && cargo build --release -p guild-api) || die "the release build failed"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for suite in $BENCH_SUITES; do
    script="$BENCH_DIR/$suite.sh"
    if [[ ! -f "$script" ]]; then
        note "no suite $suite ($script); skipped"
        continue
    fi
    note "suite $suite"
    bash "$script"
done
print_summary
