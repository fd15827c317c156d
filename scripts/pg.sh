# shellcheck shell=bash
# Throwaway or persistent local Postgres for tests, benchmarks and local runs.
#
# Source this file, then call `pg_start <data-parent-dir> [port]`. It installs
# Debian's postgresql package when no server binaries are found, initialises a
# cluster (as the `postgres` user when we are root, because initdb refuses to
# run as root), starts it on 127.0.0.1 and exports DATABASE_URL. `pg_stop`
# stops it. The caller decides whether the folder is deleted afterwards.

pg_log() { printf '[pg] %s\n' "$*" >&2; }

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && printf '%s' "$dir"
}

pg_install() {
  if [ -n "$(pg_bindir)" ]; then return 0; fi
  pg_log "PostgreSQL server not found; installing Debian's postgresql package"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { pg_log "need root or sudo to install postgresql"; return 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq postgresql >/dev/null
  [ -n "$(pg_bindir)" ] || { pg_log "postgresql installed but no server binaries under /usr/lib/postgresql"; return 1; }
}

# Runs a Postgres binary as the owner of the cluster: `postgres` when we are root.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pg_pick_port: a port nothing listens on, below the kernel's ephemeral range
# (ip_local_port_range), so an outgoing connection cannot take it between the
# pick and the bind. Callers that bind later should still retry on a clash.
pg_pick_port() {
  local low=32768 port tries=0
  if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range || low=32768
  fi
  [ "$low" -gt 12000 ] || low=32768
  while [ $tries -lt 50 ]; do
    port=$(( 10000 + RANDOM % (low - 10000) ))
    if pg_port_free "$port"; then printf '%s' "$port"; return 0; fi
    tries=$((tries + 1))
  done
  return 1
}

# pg_start DIR [PORT]: DIR holds data/, the socket and the log. Reuses an existing cluster.
pg_start() {
  local dir=$1 port=${2:-}
  pg_install || return 1
  local bin
  bin=$(pg_bindir)
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    # The server runs as postgres and must reach its socket folder through the parents.
    chmod o+x "$(dirname "$dir")"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  # Tests trade durability for speed; PG_DURABLE=1 (start.sh, whose drafts
  # must survive a crash of the machine) keeps Postgres's defaults.
  local fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_DURABLE:-}" = 1 ] && fast=""
  local attempt
  for attempt in 1 2 3 4 5; do
    [ -n "$port" ] || port=$(pg_pick_port) || { pg_log "no free port"; return 1; }
    if pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $fast -c max_connections=500" \
        start >/dev/null; then
      export PG_DIR=$dir PG_PORT=$port
      export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
      pg_log "PostgreSQL running on 127.0.0.1:$port (data in $dir/data)"
      return 0
    fi
    pg_log "start on port $port failed (attempt $attempt):"
    tail -n 5 "$dir/postgres.log" >&2 || true
    port=""
  done
  return 1
}

pg_stop() {
  local dir=${1:-${PG_DIR:-}}
  [ -n "$dir" ] && [ -f "$dir/data/postmaster.pid" ] || return 0
  pg_as_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}
