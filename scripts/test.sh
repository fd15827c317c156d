#!/usr/bin/env bash
# The project's test command: everything the tests need, started here and torn down on exit.
#
#   scripts/test.sh [extra cargo test args]
#
# Installs PostgreSQL if it is missing, starts a throwaway cluster on a free
# loopback port, exports DATABASE_URL, starts a real Medusa on it for the
# Medusa tests (scripts/medusa.sh: node_modules and the seeded template are
# cached under ~/.cache/flashsale-bot, so only the first run on a machine
# installs), installs Chromium (the browser test)
# and pgbouncer (the pooling test, which skips, saying so, only when
# pgbouncer could not be installed) if they are missing, then runs rustfmt,
# clippy and the whole test suite, and, when no arguments narrow the tests,
# runs the time-sensitive tests again with the clocks moved 400 days ahead
# (scripts/test-shifted-clock.sh) and smoke-tests scripts/start.sh, with the
# dev storefront and with Medusa (scripts/start-smoke.sh [--medusa]). Medusa is stopped once cargo test is done; it,
# the cluster and their folder are removed on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
# shellcheck source=scripts/chromium.sh
source scripts/chromium.sh
# shellcheck source=scripts/pgbouncer.sh
source scripts/pgbouncer.sh
# shellcheck source=scripts/medusa.sh
source scripts/medusa.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flashsale-test.XXXXXX")
cleanup() {
  medusa_down
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start "$tmp/pg"
medusa_up "$tmp/medusa"
chromium_install
pgbouncer_install || pgbouncer_log "could not install pgbouncer: tests/it/presence_pooling.rs skips its pgbouncer cases"
source scripts/fonts.sh && fonts_install

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --locked "$@"
medusa_down
if [ $# -eq 0 ]; then
  echo "== the time-sensitive tests again, the clocks 400 days ahead (libfaketime)"
  bash scripts/test-shifted-clock.sh
  echo "== scripts/start.sh smoke: the quick start from draft to live"
  bash scripts/start-smoke.sh
  echo "== scripts/start.sh --medusa smoke: the same quick start with Medusa as the shop"
  bash scripts/start-smoke.sh --medusa
fi
