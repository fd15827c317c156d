#!/usr/bin/env bash
# The long search of the interleavings (tests/it/interleavings.rs): many more
# seeds than CI runs, against a throwaway Postgres, in a release build. Both
# searches run, side by side: with a shop that is published at the start and
# with one that schedules sales (staged at approval); each gets the seeds.
#
#   scripts/soak.sh [--seeds N] [--first-seed S]      # default: 2000 seeds from 1
#   scripts/soak.sh --seed S                          # replay one seed
#
# A failing seed prints its schedule, the shrunk schedule and the violation;
# `scripts/soak.sh --seed S` (or INTERLEAVING_SEED=S cargo test --test it
# interleavings) replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh

seeds=2000
first=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --first-seed) first="$2"; shift 2 ;;
    --seed) export INTERLEAVING_SEED="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
export INTERLEAVING_SEEDS="$seeds" INTERLEAVING_FIRST_SEED="$first"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flashsale-soak.XXXXXX")
cleanup() {
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start "$tmp/pg"
cargo test --release --locked --test it -- --nocapture interleavings::every_searched_ordering
