#!/usr/bin/env bash
# The time-sensitive tests again, with the clock of the test process, of the
# bots it starts and of Postgres all moved ahead (400 days by default), so a
# test that leans on the calendar date fails here instead of on a later day.
#
#   scripts/test-shifted-clock.sh [test-name filters]
#
# Default filters: golive:: jobs:: ha:: announcements:: approval::.
# FAKETIME_SHIFT changes the shift (libfaketime syntax, e.g. +400d, -30d).
#
# Uses Debian's libfaketime (package `faketime`, installed when missing).
# cargo itself hangs with libfaketime preloaded, so the test binary is built
# first and then run directly, from the package root as cargo would; only it
# and a throwaway Postgres cluster run with LD_PRELOAD/FAKETIME. The check
# below makes sure Postgres's now() really moved before any test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh

shift_by=${FAKETIME_SHIFT:-+400d}
filters=("$@")
[ ${#filters[@]} -gt 0 ] || filters=(golive:: jobs:: ha:: announcements:: approval::)

log() { printf '[shifted-clock] %s\n' "$*" >&2; }

faketime_lib() {
  dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketimeMT\.so\.1$' || true
}

if [ -z "$(faketime_lib)" ]; then
  log "libfaketime not found; installing Debian's faketime package"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq faketime >/dev/null
fi
lib=$(faketime_lib)
[ -n "$lib" ] || { log "faketime installed but libfaketimeMT.so.1 not found"; exit 1; }
pg_install

log "building the test binary (outside libfaketime)"
# The artifact of the `it` test target (cargo also lists the binaries it builds for it).
bin=$(cargo test --locked --test it --no-run --message-format=json 2>/dev/null \
  | grep '"kind":\["test"\]' | grep '"name":"it"' \
  | grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d'"' -f4)
[ -x "$bin" ] || { log "could not find the integration test binary"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flashsale-shifted.XXXXXX")
cleanup() {
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# From here on, every process (Postgres, the tests, the bots they start) lives
# $shift_by away from the host's time.
export LD_PRELOAD=$lib FAKETIME=$shift_by
pg_start "$tmp/pg"

real=$(env -u LD_PRELOAD -u FAKETIME date +%s)
shifted=$("$(pg_bindir)/psql" "$DATABASE_URL" -tAc "select extract(epoch from now())::bigint")
log "host clock $(date -u -d "@$real" +%FT%TZ), Postgres now() $(date -u -d "@$shifted" +%FT%TZ)"
if [ $(( shifted - real )) -lt 86400 ] && [ $(( real - shifted )) -lt 86400 ]; then
  log "Postgres's clock did not move: the shifted pass would prove nothing"
  exit 1
fi

log "running ${filters[*]} with FAKETIME=$shift_by"
"$bin" "${filters[@]}"
