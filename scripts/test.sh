#!/usr/bin/env bash
# The project's test command: everything the tests need, started here and torn down on exit.
#
#   scripts/test.sh [extra cargo test args]
#
# Installs PostgreSQL if it is missing, starts a throwaway cluster on a free
# loopback port, exports DATABASE_URL, then runs rustfmt, clippy and the whole
# test suite. The cluster and its folder are removed on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flashsale-test.XXXXXX")
cleanup() {
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start "$tmp/pg"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --locked "$@"
