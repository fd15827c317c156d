#!/usr/bin/env bash
# The benchmark command: every figure of docs/performance.md.
#
#   scripts/bench.sh [all|golive|golive-loaded|usecases|process|faults|import|pictures|history] [options]
#
# Starts a throwaway Postgres (as scripts/test.sh does), builds in release
# mode and runs `flashsale-bench` (default: all), which starts the dev
# storefront on loopback, scheduler and bot processes as each figure needs,
# and prints a table with the targets (also written to bench/results.json in
# cargo's target folder: $CARGO_TARGET_DIR, or ./target). Figures are
# measured, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flashsale-bench.XXXXXX")
cleanup() {
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start "$tmp/pg"
export FLASHSALE_COMMIT
FLASHSALE_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# One build for the binaries and the test binary that measures the Discord
# acknowledgement: their common dependencies compile once, in parallel. Cargo
# says where it put flashsale-bench (CARGO_TARGET_DIR, or ./target).
bench=$(cargo test --release --locked --no-run --test it --message-format=json-render-diagnostics \
  | sed -n 's/.*"executable":"\([^"]*\/flashsale-bench\)".*/\1/p' | tail -n 1)
[ -x "$bench" ] || { echo "cargo built no flashsale-bench binary" >&2; exit 1; }
echo "machine: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $FLASHSALE_COMMIT"
[ $# -gt 0 ] || set -- all
"$bench" "$@"
if [ "$1" = all ]; then
  # The Discord and Slack adapters' acknowledgements need the fake Discord and
  # fake Slack of the test suite, so these figures are measured by ignored
  # tests (release build).
  echo "== interaction acknowledgement (fake Discord, fake Slack; catalog stalled 10 s) and card press with pictures"
  cargo test --release --locked --test it bench_ -- --ignored --nocapture --test-threads 1 2>/dev/null \
    | grep '^| ' || { echo "interaction acknowledgement: the measurement failed" >&2; exit 1; }
fi
