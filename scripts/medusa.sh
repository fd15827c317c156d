# shellcheck shell=bash
# A real Medusa 2.x server for the integration tests (tests/medusa/, tests/it/support/medusa.rs).
#
# Source this file, then, with DATABASE_URL pointing at the test Postgres
# (scripts/pg.sh's pg_start), call `medusa_up DIR`; `medusa_down` stops it.
# scripts/test.sh does both. Or run it for a local session:
#
#   bash scripts/medusa.sh     # own Postgres unless DATABASE_URL is set; prints the env; Ctrl-C stops
#
# Steps, each reusing what is already there:
#  1. node_modules: `npm ci` of tests/medusa's lock file (nice'd, install
#     scripts off) into ${XDG_CACHE_HOME:-~/.cache}/flashsale-bot/medusa-<lock
#     hash>-node<major>, outside the work tree, shared by every checkout on
#     the machine (712 MB; 60-80 s cold here). Installed beside it and
#     renamed into place when complete, under a lock, so a run that is
#     interrupted or runs alongside another never sees half a tree. Folders
#     of other lock files (or Node majors) that no run has used for
#     MEDUSA_CACHE_DAYS (14) days are deleted. Node.js >= 20 is needed: Debian's
#     nodejs and npm are installed when node is missing (Debian 12's own
#     nodejs is 18, which Medusa 2 does not support: then this stops, saying so).
#  2. A template database on the test Postgres, `medusa_tpl_<hash>`, the hash
#     covering the lock file, medusa-config.js, seed.js, the sample catalog
#     and Postgres's major version: reused when it exists (a persistent
#     cluster); else restored from a dump kept in the cache folder (0.4-0.7
#     s); else migrated (`medusa db:migrate`, about 20 s) and seeded
#     (`medusa exec ./seed.js`, about 6 s), then dumped there for next time.
#     The seed's answer (keys, region, ...) is the template's database comment
#     and sits beside the dump (test-only keys of a loopback server).
#  3. A database for this run, `CREATE DATABASE ... TEMPLATE` the template
#     (0.12-0.36 s), and `medusa start --host 127.0.0.1 --port <free port>`
#     on it, waited for on /health (5-7 s).
#  4. The harness file DIR/harness.json (read by tests/it/support/medusa.rs
#     through MEDUSA_HARNESS) and the same facts as MEDUSA_* variables.
#
# Telemetry is off (MEDUSA_DISABLE_TELEMETRY). The Medusa tests never skip:
# without MEDUSA_HARNESS, or with a server that does not answer, they fail
# and say how to start one.

medusa_log() { printf '[medusa] %s\n' "$*" >&2; }

medusa_repo() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd); }

medusa_now_ms() { date +%s%3N; }

# medusa_node: Node.js >= 20 on PATH, installing Debian's nodejs and npm when node or npm is missing.
medusa_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    medusa_log "node or npm not found; installing Debian's nodejs and npm packages"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo >/dev/null 2>&1 || { medusa_log "need root or sudo to install nodejs"; return 1; }
      sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq nodejs npm >/dev/null || { medusa_log "apt-get install nodejs npm failed"; return 1; }
  fi
  local version major
  version=$(node --version) || return 1
  major=${version#v}
  major=${major%%.*}
  if [ "$major" -lt 20 ]; then
    medusa_log "Medusa 2.x needs Node.js >= 20, this machine has $version (Debian 12's own nodejs is 18): install a newer one"
    return 1
  fi
  MEDUSA_NODE_MAJOR=$major
}

medusa_hash() { cat "$@" | sha256sum | cut -c1-16; }

# medusa_prune_cache CACHE KEEP: deletes the medusa-* folders in CACHE other
# than KEEP that no run has used for MEDUSA_CACHE_DAYS days (700 MB each),
# each under its own lock, skipped when a run holds it.
medusa_prune_cache() {
  local cache=$1 keep=$2 days=${MEDUSA_CACHE_DAYS:-14} old fd
  [ -d "$cache" ] || return 0
  for old in "$cache"/medusa-*; do
    [ -d "$old" ] && [ "$old" != "$keep" ] || continue
    case "$old" in *.partial) continue ;; esac
    # Used (or installed) within the window: keep it.
    if [ -n "$(find "$old" -maxdepth 1 \( -name .last-used -o -name .complete \) -mtime -"$days" -print -quit)" ]; then
      continue
    fi
    exec {fd}>"$old.lock"
    if flock -n "$fd"; then
      medusa_log "deleting $old: not used for $days days"
      rm -rf "$old" "$old.partial"
      rm -f "$old.lock"
    fi
    exec {fd}>&-
  done
}

# medusa_install: MEDUSA_MODULES, the cached node_modules for tests/medusa/package-lock.json.
medusa_install() {
  medusa_node || return 1
  local src cache key dir
  src="$(medusa_repo)/tests/medusa"
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/flashsale-bot
  key="$(medusa_hash "$src/package-lock.json")-node$MEDUSA_NODE_MAJOR"
  dir="$cache/medusa-$key"
  MEDUSA_CACHE=$dir
  MEDUSA_MODULES=$dir/node_modules
  medusa_prune_cache "$cache" "$dir"
  if [ -f "$dir/.complete" ]; then
    touch "$dir/.last-used"
    medusa_log "node_modules from the cache ($dir)"
    return 0
  fi
  mkdir -p "$cache" || return 1
  local fd started
  exec {fd}>"$dir.lock"
  flock "$fd"
  if [ -f "$dir/.complete" ]; then
    exec {fd}>&-
    medusa_log "node_modules from the cache ($dir, installed by a run alongside)"
    return 0
  fi
  started=$(medusa_now_ms)
  medusa_log "installing Medusa's node_modules (npm ci, nice'd) into $dir"
  local work="$dir.partial"
  rm -rf "$work" "$dir"
  mkdir -p "$work"
  cp "$src/package.json" "$src/package-lock.json" "$work/"
  # Install scripts stay off: none of these packages needs one to run here
  # (native parts come as prebuilt optional packages), and one of them is
  # Medusa's telemetry.
  if ! (cd "$work" && MEDUSA_DISABLE_TELEMETRY=true nice -n 19 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1); then
    tail -n 30 "$work/npm.log" >&2
    exec {fd}>&-
    medusa_log "npm ci failed (log above)"
    return 1
  fi
  touch "$work/.complete" "$work/.last-used"
  mv -T "$work" "$dir"
  exec {fd}>&-
  medusa_log "installed in $(( ($(medusa_now_ms) - started) / 1000 )) s"
}

medusa_psql() { PGOPTIONS="-c client_min_messages=warning" "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# medusa_db_url NAME: DATABASE_URL with its database replaced by NAME.
medusa_db_url() {
  local base=${DATABASE_URL%%\?*} query=""
  [ "$base" = "$DATABASE_URL" ] || query="?${DATABASE_URL#*\?}"
  printf '%s/%s%s' "${base%/*}" "$1" "$query"
}

# medusa_project DIR: a Medusa project folder (config, seed, package.json, node_modules -> the cache).
medusa_project() {
  local dir=$1 src
  src="$(medusa_repo)/tests/medusa"
  mkdir -p "$dir" || return 1
  cp "$src/package.json" "$src/medusa-config.js" "$src/seed.js" "$dir/"
  ln -sfn "$MEDUSA_MODULES" "$dir/node_modules"
  MEDUSA_PROJECT_DIR=$dir
}

# medusa_cli DBNAME ARGS...: runs the medusa CLI in the project folder against database DBNAME.
medusa_cli() {
  local db=$1
  shift
  (cd "$MEDUSA_PROJECT_DIR" && MEDUSA_DISABLE_TELEMETRY=true MEDUSA_DATABASE_URL=$(medusa_db_url "$db") \
    ./node_modules/.bin/medusa "$@")
}

# medusa_template: MEDUSA_TEMPLATE (the database name) and MEDUSA_SEED (the seed's JSON answer).
medusa_template() {
  local src repo pg_major key name dump started
  repo=$(medusa_repo)
  src="$repo/tests/medusa"
  pg_major=$(medusa_psql "$DATABASE_URL" -tAc "show server_version_num") || return 1
  pg_major=$(( pg_major / 10000 ))
  key="$(medusa_hash "$src/package-lock.json" "$src/medusa-config.js" "$src/seed.js" "$repo/data/sample-catalog.json")-pg$pg_major"
  name="medusa_tpl_${key//-/_}"
  dump="$MEDUSA_CACHE/template-$key.dump"
  MEDUSA_TEMPLATE=$name
  MEDUSA_SEED=$(medusa_psql "$DATABASE_URL" -tAc \
    "select shobj_description(oid, 'pg_database') from pg_database where datname = '$name'") || return 1
  if [ -n "$MEDUSA_SEED" ]; then
    medusa_log "template database $name already on this cluster"
    return 0
  fi
  started=$(medusa_now_ms)
  local build="${name}_build_$$"
  medusa_psql "$DATABASE_URL" -c "drop database if exists $build" -c "create database $build" || return 1
  if [ -s "$dump" ] && [ -s "$dump.json" ]; then
    "$(pg_bindir)/pg_restore" --no-owner --exit-on-error -d "$(medusa_db_url "$build")" "$dump" || return 1
    MEDUSA_SEED=$(cat "$dump.json")
    medusa_log "template restored from $dump in $(( $(medusa_now_ms) - started )) ms"
  else
    local log="$MEDUSA_PROJECT_DIR/template.log"
    medusa_log "migrating and seeding the template database $name (log: $log)"
    if ! medusa_cli "$build" db:migrate >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      medusa_log "medusa db:migrate failed"
      return 1
    fi
    local migrated
    migrated=$(medusa_now_ms)
    if ! medusa_cli "$build" exec ./seed.js "$repo/data/sample-catalog.json" "$MEDUSA_PROJECT_DIR/seed.json" >>"$log" 2>&1; then
      tail -n 30 "$log" >&2
      medusa_log "seeding failed (tests/medusa/seed.js)"
      return 1
    fi
    MEDUSA_SEED=$(cat "$MEDUSA_PROJECT_DIR/seed.json")
    medusa_log "migrated in $(( migrated - started )) ms, seeded in $(( $(medusa_now_ms) - migrated )) ms"
    # For the next run on a fresh cluster: written aside, then renamed, so a reader sees all or nothing.
    if "$(pg_bindir)/pg_dump" -Fc -d "$(medusa_db_url "$build")" -f "$dump.$$" 2>/dev/null; then
      printf '%s' "$MEDUSA_SEED" >"$dump.json.$$" && mv -f "$dump.json.$$" "$dump.json" && mv -f "$dump.$$" "$dump"
    else
      rm -f "$dump.$$"
      medusa_log "could not dump the template for later runs (not needed for this one)"
    fi
  fi
  medusa_psql "$DATABASE_URL" -v seed="$MEDUSA_SEED" <<SQL || return 1
comment on database $build is :'seed';
SQL
  if ! medusa_psql "$DATABASE_URL" -c "alter database $build rename to $name" 2>/dev/null; then
    # Another run on this cluster made it meanwhile: use theirs.
    medusa_psql "$DATABASE_URL" -c "drop database if exists $build"
    MEDUSA_SEED=$(medusa_psql "$DATABASE_URL" -tAc \
      "select shobj_description(oid, 'pg_database') from pg_database where datname = '$name'")
    [ -n "$MEDUSA_SEED" ] || { medusa_log "could not make the template database $name"; return 1; }
  fi
}

# medusa_copy NAME: a fresh database NAME copied from the template.
medusa_copy() {
  local started
  started=$(medusa_now_ms)
  medusa_psql "$DATABASE_URL" -c "drop database if exists $1" -c "create database $1 template $MEDUSA_TEMPLATE" || return 1
  medusa_log "database $1 copied from the template in $(( $(medusa_now_ms) - started )) ms"
}

# medusa_healthy PORT: whether GET /health answers 200 (bash's /dev/tcp: no curl needed).
medusa_healthy() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    read -r -t 2 _ status _ <&3 || exit 1
    [ "$status" = "200" ]
  ) 2>/dev/null
}

# medusa_start DBNAME LOG: `medusa start` on a free loopback port; MEDUSA_PID and MEDUSA_PORT.
medusa_start() {
  local db=$1 log=$2 attempt started port pid
  for attempt in 1 2 3; do
    port=$(pg_pick_port) || { medusa_log "no free port"; return 1; }
    started=$(medusa_now_ms)
    # One node process (no --cluster): $! is the server itself once exec'd.
    (cd "$MEDUSA_PROJECT_DIR" && MEDUSA_DISABLE_TELEMETRY=true MEDUSA_DATABASE_URL=$(medusa_db_url "$db") \
      exec ./node_modules/.bin/medusa start --host 127.0.0.1 --port "$port" >"$log" 2>&1 </dev/null) &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      if medusa_healthy "$port"; then
        MEDUSA_PID=$pid MEDUSA_PORT=$port
        medusa_log "server ready on 127.0.0.1:$port in $(( $(medusa_now_ms) - started )) ms (pid $pid, log $log)"
        return 0
      fi
      if [ $(( $(medusa_now_ms) - started )) -gt 120000 ]; then
        medusa_log "no answer on /health after 120 s"
        kill -9 "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.2
    done
    wait "$pid" 2>/dev/null || true
    medusa_log "medusa start exited (attempt $attempt, port $port):"
    tail -n 20 "$log" >&2
    grep -q EADDRINUSE "$log" || return 1
  done
  return 1
}

# medusa_json_env FILE: the harness file as `export MEDUSA_...=...` lines (node parses the JSON).
medusa_json_env() {
  node -e '
    const h = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const q = (v) => "\x27" + String(v).replace(/\x27/g, "\x27\\\x27\x27") + "\x27";
    const vars = { MEDUSA_URL: h.url, MEDUSA_SECRET_API_KEY: h.secret_api_key,
      MEDUSA_PUBLISHABLE_API_KEY: h.publishable_api_key, MEDUSA_REGION_ID: h.region_id,
      MEDUSA_CURRENCY_CODE: h.currency_code };
    for (const [k, v] of Object.entries(vars)) console.log(`export ${k}=${q(v)}`);
  ' "$1"
}

# medusa_up DIR: everything above; the server runs until medusa_down. With
# MEDUSA_KEEP_AS=NAME the store's database is medusa_NAME_<template hash>,
# copied from the template only when missing and kept by medusa_down.
medusa_up() {
  local dir=$1 started
  [ -n "${DATABASE_URL:-}" ] || { medusa_log "DATABASE_URL is not set: start Postgres first (scripts/pg.sh)"; return 1; }
  declare -F pg_pick_port >/dev/null || source "$(medusa_repo)/scripts/pg.sh"
  started=$(medusa_now_ms)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  medusa_install || return 1
  medusa_project "$dir/project" || return 1
  medusa_template || return 1
  if [ -n "${MEDUSA_KEEP_AS:-}" ]; then
    # A store that outlives the run (scripts/start.sh): its sales are still
    # there after a restart. Named after the template too, so a new Medusa
    # (another lock file, another seed) starts from its own template.
    MEDUSA_DATABASE="medusa_${MEDUSA_KEEP_AS}_${MEDUSA_TEMPLATE#medusa_tpl_}"
    MEDUSA_KEPT=1
    if [ -n "$(medusa_psql "$DATABASE_URL" -tAc "select 1 from pg_database where datname = '$MEDUSA_DATABASE'")" ]; then
      medusa_log "database $MEDUSA_DATABASE kept from an earlier run"
    else
      medusa_copy "$MEDUSA_DATABASE" || return 1
    fi
    # Stores kept under this name for an older template (another Medusa, another
    # seed) are not coming back: drop them. One run per name at a time (the
    # caller's lock), so none of them is in use; one that is stays.
    local old
    for old in $(medusa_psql "$DATABASE_URL" -tAc "select datname from pg_database where datname like 'medusa\_${MEDUSA_KEEP_AS//_/\\_}\_%' and datname <> '$MEDUSA_DATABASE'"); do
      medusa_psql "$DATABASE_URL" -c "drop database if exists $old" >/dev/null 2>&1 \
        && medusa_log "dropped $old, kept for an older template"
    done
  else
    MEDUSA_DATABASE="medusa_run_$$"
    MEDUSA_KEPT=""
    medusa_copy "$MEDUSA_DATABASE" || return 1
  fi
  medusa_start "$MEDUSA_DATABASE" "$dir/server.log" || return 1
  MEDUSA_HARNESS=$dir/harness.json
  # The seed's answer plus where the server is and how to make another one (tests that stop a Medusa start their own).
  node -e '
    const [seed, out, url, db, template, cluster, project, log] = process.argv.slice(1);
    const h = { ...JSON.parse(seed), url, database: db, template_database: template,
      cluster_url: cluster, project_dir: project, server_log: log };
    require("fs").writeFileSync(out, JSON.stringify(h, null, 2) + "\n");
  ' "$MEDUSA_SEED" "$MEDUSA_HARNESS" "http://127.0.0.1:$MEDUSA_PORT" "$MEDUSA_DATABASE" \
    "$MEDUSA_TEMPLATE" "$DATABASE_URL" "$MEDUSA_PROJECT_DIR" "$dir/server.log" || return 1
  eval "$(medusa_json_env "$MEDUSA_HARNESS")"
  export MEDUSA_HARNESS MEDUSA_DISABLE_TELEMETRY=true
  medusa_log "up in $(( ($(medusa_now_ms) - started) / 1000 )) s: MEDUSA_HARNESS=$MEDUSA_HARNESS"
}

# medusa_down: stops the server (SIGTERM, then SIGKILL after 10 s) and drops the run's database
# (not one kept with MEDUSA_KEEP_AS).
medusa_down() {
  local pid=${MEDUSA_PID:-}
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  MEDUSA_PID=""
  if [ -n "${MEDUSA_DATABASE:-}" ] && [ -n "${DATABASE_URL:-}" ] && [ -z "${MEDUSA_KEPT:-}" ]; then
    medusa_psql "$DATABASE_URL" -c "drop database if exists $MEDUSA_DATABASE with (force)" >/dev/null 2>&1 || true
    MEDUSA_DATABASE=""
  fi
  unset MEDUSA_HARNESS MEDUSA_URL MEDUSA_SECRET_API_KEY MEDUSA_PUBLISHABLE_API_KEY \
    MEDUSA_REGION_ID MEDUSA_CURRENCY_CODE
  return 0
}

# Run directly: a Medusa (and a Postgres, unless DATABASE_URL is set) until Ctrl-C.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  source "$(medusa_repo)/scripts/pg.sh"
  medusa_tmp=$(mktemp -d "${TMPDIR:-/tmp}/flashsale-medusa.XXXXXX")
  medusa_own_pg=""
  medusa_cleanup() {
    medusa_down
    [ -z "$medusa_own_pg" ] || pg_stop "$medusa_tmp/pg"
    rm -rf "$medusa_tmp"
  }
  trap medusa_cleanup EXIT
  trap 'exit 130' INT TERM
  if [ -z "${DATABASE_URL:-}" ]; then
    pg_start "$medusa_tmp/pg"
    medusa_own_pg=1
  fi
  medusa_up "$medusa_tmp"
  echo "# Medusa is running; in another shell:"
  medusa_json_env "$MEDUSA_HARNESS"
  echo "export MEDUSA_HARNESS='$MEDUSA_HARNESS' DATABASE_URL='$DATABASE_URL'"
  echo "# Ctrl-C stops it."
  while kill -0 "$MEDUSA_PID" 2>/dev/null; do sleep 1; done
  medusa_log "the server exited"
  exit 1
fi
