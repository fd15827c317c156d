# shellcheck shell=bash
# Debian's pgbouncer for the pooling test (tests/it/presence_pooling.rs).
#
# Source this file, then call `pgbouncer_install`. When no `pgbouncer`
# binary is found (on PATH or in /usr/sbin) it installs Debian's pgbouncer
# package, as root with apt-get or otherwise through sudo, the way pg.sh
# installs postgresql. The test starts its own pgbouncer (as `nobody` when
# run as root; the package's service is not used) and only needs the binary.
# On success FLASHSALE_REQUIRE_PGBOUNCER=1 is exported, so the test fails
# instead of skipping if it cannot find the binary after all.

pgbouncer_log() { printf '[pgbouncer] %s\n' "$*" >&2; }

pgbouncer_bin() {
  command -v pgbouncer 2>/dev/null || { [ -x /usr/sbin/pgbouncer ] && printf '%s' /usr/sbin/pgbouncer; }
}

pgbouncer_install() {
  if [ -z "$(pgbouncer_bin)" ]; then
    pgbouncer_log "pgbouncer not found; installing Debian's pgbouncer package for the pooling test"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo >/dev/null 2>&1 || { pgbouncer_log "need root or sudo to install pgbouncer"; return 1; }
      sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    # The test runs its own; the package's service (on 6432, where systemd
    # starts it) is not wanted.
    $sudo apt-get install -y -qq pgbouncer >/dev/null || return 1
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet pgbouncer 2>/dev/null; then
      $sudo systemctl disable --now pgbouncer >/dev/null 2>&1 || true
    fi
  fi
  [ -n "$(pgbouncer_bin)" ] || { pgbouncer_log "pgbouncer installed but no pgbouncer binary found"; return 1; }
  export PGBOUNCER
  PGBOUNCER=$(pgbouncer_bin)
  export FLASHSALE_REQUIRE_PGBOUNCER=1
}
