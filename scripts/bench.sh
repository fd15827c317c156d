#!/usr/bin/env bash
# The benchmark command: measures go-live lateness with real scheduler processes.
#
#   scripts/bench.sh [--sessions N] [--spread-secs S] [--workers W]
#
# Starts a throwaway Postgres (as scripts/test.sh does), builds in release
# mode, and runs `flashsale-bench golive`, which starts the dev storefront on
# loopback and W scheduler processes, and prints a table (also written to
# target/bench/golive.json). Figures are measured, never asserted.
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
cargo build --release --locked --bin flashsale-bench
echo "machine: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $FLASHSALE_COMMIT"
./target/release/flashsale-bench golive "$@"
