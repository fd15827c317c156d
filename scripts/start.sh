#!/usr/bin/env bash
# Runs the whole bot on this machine: Postgres, the dev storefront and the bot.
#
#   scripts/start.sh            the dev storefront as the shop
#   scripts/start.sh --medusa   a local Medusa 2 store with the sample catalog
#   scripts/start.sh --help
#
# - Postgres: a local cluster in .local/pg (installed with apt when missing),
#   kept between runs so drafts survive; skipped when DATABASE_URL is set in
#   the environment or .env. Several start.sh runs share it; the last one to leave
#   stops it (and only if a start.sh started it).
# - Which database: runs in Discord or Slack share the cluster's `postgres`
#   database (two of them are two replicas of one bot, as in production). A
#   console is one person's terminal, not a shared channel, so a console run
#   takes a database nobody else is using: `postgres` when it is free, else
#   flashsale_console_2, _3, ... (created once, kept for next time).
# - Dev storefront: flashsale-dev-storefront on 127.0.0.1:8088 (STOREFRONT_PORT
#   to choose another; a free port when it is taken), one per database: runs
#   on the same database share it, and the last one to leave stops it. It
#   keeps its sales in .local/storefront/<database>/state.json, so a restart
#   does not lose a live sale. The webhook secret is generated once into
#   .local/webhook-secret. Skipped when STOREFRONT_URL is set in the
#   environment or .env.
# - Or, with --medusa, a local Medusa 2 server instead (scripts/medusa.sh:
#   node_modules cached in ~/.cache/flashsale-bot, a migrated and seeded
#   template database on the local Postgres, copied once per database and
#   kept, so a restart finds the staged sales), and the bot with
#   SHOP=medusa: sales are staged as price lists when approved and Medusa
#   switches them by its own clock. One --medusa run per database.
# - The bot in the foreground: `flashsale-bot run` in Discord when .env (or
#   the environment) has a DISCORD_TOKEN, in Slack when it has a
#   SLACK_BOT_TOKEN, otherwise in this terminal (`flashsale-bot console`).
#   With both tokens, CHAT=discord or CHAT=slack says which (the bot refuses
#   to guess). Its health listener (HTTP_ADDR) gets a free loopback port
#   unless HTTP_ADDR is set (`off` turns it off), so two runs and the tests do
#   not collide.
# - Binaries come from wherever cargo builds them (CARGO_TARGET_DIR honoured).
# - FLASHSALE_LOCAL_DIR moves the .local folder (the cluster, the storefronts'
#   sales, the secret) elsewhere.
#
# Ctrl-C (or `quit` in the console) stops what this script started; the data
# folder stays for next time.
set -euo pipefail
cd "$(dirname "$0")/.."

shop=devstore
for arg in "$@"; do
  case "$arg" in
    -h|--help)
      sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
      exit 0 ;;
    --medusa) shop=medusa ;;
    *) printf '[start] unknown argument %s (try --help)\n' "$arg" >&2; exit 1 ;;
  esac
done

# shellcheck source=scripts/pg.sh
source scripts/pg.sh

say() { printf '[start] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# dotenv_value VAR: the value .env gives VAR (its last line for it, without
# quotes), or nothing; the bot reads .env the same way (real variables win).
dotenv_value() {
  [ -f .env ] || return 0
  sed -n -E "s/^[[:space:]]*(export[[:space:]]+)?$1=[\"']?([^\"'#]*[^\"'#[:space:]])?.*$/\2/p" .env | tail -n 1
}
# setting VAR: VAR's value and where it comes from, for the banner.
setting() {
  if [ -n "${!1:-}" ]; then printf '%s' "${!1}"
  elif [ -n "$(dotenv_value "$1")" ]; then printf '%s (.env)' "$(dotenv_value "$1")"
  else printf 'default'; fi
}

local_dir=${FLASHSALE_LOCAL_DIR:-$PWD/.local}
mkdir -p "$local_dir"
local_dir=$(cd "$local_dir" && pwd)
pg_users=""       # the folder where each run using the local cluster leaves its pid
sf_dir=""         # this run's dev storefront's folder (pid, port, users/, state.json)
sf_started=""     # set when this run started the dev storefront (for the banner)
medusa_started=""

# Unregisters this run from the local cluster; the last run to leave stops it,
# if a start.sh started it. Under the cluster's lock, so a run arriving now
# either finds it running and registers, or starts it again.
leave_postgres() {
  (
    flock 9
    rm -f "$pg_users/$$"
    for f in "$pg_users"/*; do
      [ -e "$f" ] || continue
      kill -0 "${f##*/}" 2>/dev/null || rm -f "$f"   # a run that died without cleaning up
    done
    others=$(find "$pg_users" -mindepth 1 -maxdepth 1 -not -name '.*' | wc -l)
    if [ "$others" -gt 0 ]; then
      say "leaving Postgres running: $others other start.sh run(s) use it"
    elif [ -f "$pg_users/.started" ]; then
      say "stopping Postgres (data kept in $pg_dir/data)"
      pg_stop "$pg_dir"
      rm -f "$pg_users/.started"
    fi
  ) 9>"$pg_dir.lock"
}

# The pid in $1/pid if that process is a dev storefront still running.
storefront_running() {
  local pid
  pid=$(cat "$1/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q flashsale-dev-storefront \
    && printf '%s' "$pid"
}

# Unregisters this run from its dev storefront; the last run to leave stops
# it. Under the storefront's lock, like leave_postgres.
leave_storefront() {
  (
    flock 7
    rm -f "$sf_dir/users/$$"
    for f in "$sf_dir/users"/*; do
      [ -e "$f" ] || continue
      kill -0 "${f##*/}" 2>/dev/null || rm -f "$f"
    done
    others=$(find "$sf_dir/users" -mindepth 1 -maxdepth 1 | wc -l)
    if [ "$others" -gt 0 ]; then
      say "leaving the dev storefront running: $others other start.sh run(s) use it"
    elif pid=$(storefront_running "$sf_dir"); then
      say "stopping the dev storefront (its sales are kept in $sf_dir/state.json)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$sf_dir/pid"
    fi
  ) 7>"$sf_dir/lock"
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # A lock this shell may still hold (an exit inside a locked section) would
  # block the leave_* functions below, which take it again on a new descriptor.
  exec 7>&- 9>&-
  [ -z "$sf_dir" ] || leave_storefront
  if [ -n "$medusa_started" ]; then
    say "stopping Medusa"
    medusa_down || true
  fi
  [ -z "$pg_users" ] || leave_postgres
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v cargo >/dev/null 2>&1 || {
  say "cargo not found: install Rust first (https://rustup.rs), then run this again"
  exit 1
}

# --- Which chat ------------------------------------------------------------------
# Decided first, so a .env that cannot run stops before anything starts.
# has VAR: VAR is set, in the environment or in .env.
has() { [ -n "${!1:-}" ] || [ -n "$(dotenv_value "$1")" ]; }
chat=$(printf '%s' "${CHAT:-$(dotenv_value CHAT)}" | tr '[:upper:]' '[:lower:]')
if [ -z "$chat" ]; then
  if has DISCORD_TOKEN && has SLACK_BOT_TOKEN; then
    say "both DISCORD_TOKEN and SLACK_BOT_TOKEN are set (environment or .env): set CHAT=discord or CHAT=slack to pick one"
    exit 1
  elif has DISCORD_TOKEN; then chat=discord
  elif has SLACK_BOT_TOKEN; then chat=slack
  fi
fi
case "$chat" in
  "") mode=console; bot_where="console in this terminal (no DISCORD_TOKEN or SLACK_BOT_TOKEN in .env): try \`help\`" ;;
  discord) mode=run; bot_where="in Discord (DISCORD_TOKEN is set)" ;;
  slack) mode=run; bot_where="in Slack (SLACK_BOT_TOKEN is set; Socket Mode, no public URL needed)" ;;
  *) say "CHAT=$chat: expected discord or slack"; exit 1 ;;
esac
# The bot then runs what the banner says, whatever it would have guessed.
if [ -n "$chat" ]; then export CHAT=$chat; fi

# The bot reads DATABASE_URL and STOREFRONT_URL from .env as well as from
# the environment (the environment wins); so does this script, or it would
# start a local Postgres and storefront that the bot then ignores.
for var in DATABASE_URL STOREFRONT_URL; do
  if [ -z "${!var:-}" ] && [ -n "$(dotenv_value "$var")" ]; then
    export "$var=$(dotenv_value "$var")"
  fi
done

# --- Postgres ----------------------------------------------------------------
if [ -n "${DATABASE_URL:-}" ]; then
  say "using DATABASE_URL from the environment or .env"
else
  pg_dir=$local_dir/pg
  pg_install
  if [ "$(id -u)" -eq 0 ]; then
    # The server runs as the postgres user, which must reach the data folder
    # through every parent; a checkout under /root, for one, it cannot reach.
    chmod o+x "$local_dir"
    if ! runuser -u postgres -- test -x "$local_dir" 2>/dev/null; then
      pg_dir=/var/lib/flashsale-bot/pg
      mkdir -p "$(dirname "$pg_dir")"
      say "the postgres user cannot reach $local_dir; keeping the database in $pg_dir instead"
    fi
  fi
  mkdir -p "$pg_dir.users"
  exec 9>"$pg_dir.lock"
  flock 9
  if [ -f "$pg_dir/data/postmaster.pid" ] && [ -n "$(pg_bindir)" ] \
      && pg_as_owner "$(pg_bindir)/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; then
    # Started by another run that is still going: share it; whoever leaves last stops it.
    port=$(sed -n 4p "$pg_dir/data/postmaster.pid")
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    say "Postgres is already running on port $port (another start.sh?); using it"
  else
    port=54329
    pg_port_free "$port" || port=""
    # Not with the lock's descriptor: the server would inherit it and hold the lock for good.
    PG_DURABLE=1 pg_start "$pg_dir" "$port" 9>&-
    touch "$pg_dir.users/.started"
  fi
  pg_users=$pg_dir.users
  : >"$pg_users/$$"
  exec 9>&-
fi

# --- Which database ------------------------------------------------------------
# Runs on the local cluster mark the database they use with a lock on
# .local/db-<name>.lock, held for as long as the run (the bot inherits it, so
# a bot left running by a killed start.sh still counts): Discord and Slack
# runs share `postgres` (shared lock: replicas of one bot), a console run needs
# a database to itself (exclusive lock) and takes the first one free.
db_name=""
if [ -n "$pg_users" ]; then
  if [ "$mode" = console ]; then
    n=1
    while :; do
      if [ "$n" -eq 1 ]; then db_name=postgres; else db_name=flashsale_console_$n; fi
      exec 8>"$local_dir/db-$db_name.lock"
      flock -n 8 && break
      exec 8>&-
      n=$((n + 1))
      [ "$n" -le 20 ] || { say "20 console runs already use the local Postgres; quit one first"; exit 1; }
    done
    if [ "$db_name" != postgres ]; then
      psql_local() { "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
      if [ -z "$(psql_local -tAc "select 1 from pg_database where datname = '$db_name'")" ]; then
        psql_local -c "create database $db_name" >/dev/null
      fi
      export DATABASE_URL="${DATABASE_URL%/*}/$db_name"
      say "another console run uses the database postgres; this one uses its own, $db_name (kept for next time)"
    fi
  else
    db_name=postgres
    exec 8>"$local_dir/db-$db_name.lock"
    if ! flock -s -n 8; then
      say "a console start.sh uses the database postgres too: its terminal may show this bot's posts"
    fi
  fi
fi

# database_key: what names this run's database in .local (its storefront's
# folder, its Medusa): the local cluster's database name, or a hash of
# DATABASE_URL for a database elsewhere (the URL may hold a password).
database_key() {
  if [ -n "$db_name" ]; then printf '%s' "$db_name"
  else printf 'url-%s' "$(printf '%s' "$DATABASE_URL" | sha256sum | cut -c1-12)"; fi
}

# --- Build and migrate ---------------------------------------------------------
say "building (the first build takes a few minutes)"
# Cargo says where it put the binaries: ./target, or CARGO_TARGET_DIR.
bot_exe=$(cargo build --bins --message-format=json-render-diagnostics \
  | sed -n 's/.*"executable":"\([^"]*\/flashsale-bot\)".*/\1/p' | tail -n 1)
[ -x "$bot_exe" ] || { say "cargo built no flashsale-bot binary"; exit 1; }
bin=$(dirname "$bot_exe")
"$bin/flashsale-bot" migrate >&2   # its log line is not part of the chat

# --- Shop: a local Medusa ---------------------------------------------------------
if [ "$shop" = medusa ]; then
  # shellcheck source=scripts/medusa.sh
  source scripts/medusa.sh
  # One Medusa per database, like the dev storefront; but Medusa is not
  # shared between runs: a second --medusa run on the same database would
  # be a second shop for one bot, so it is refused.
  medusa_key=$(database_key)
  exec 6>"$local_dir/medusa-$medusa_key.lock"
  if ! flock -n 6; then
    say "another start.sh --medusa runs on this database ($medusa_key) with its Medusa: quit it first (one shop per bot database)"
    exit 1
  fi
  say "starting a local Medusa with the sample catalog (the first run installs it: a few minutes)"
  medusa_started=1
  # Kept between runs (like the database), so a restart finds the sales staged.
  MEDUSA_KEEP_AS=$(printf '%s' "$medusa_key" | tr -c 'a-z0-9_' '_')
  medusa_dir=$local_dir/medusa/$medusa_key
  MEDUSA_KEEP_AS=$MEDUSA_KEEP_AS medusa_up "$medusa_dir"
  # medusa_up exported MEDUSA_URL, the keys and the region, as the bot reads them.
  export SHOP=medusa MEDUSA_KEY_PREFIX=${MEDUSA_KEY_PREFIX:-demo}
fi

# --- Dev storefront ------------------------------------------------------------
if [ "$shop" = medusa ]; then
  :
elif [ -n "${STOREFRONT_URL:-}" ]; then
  say "using STOREFRONT_URL from the environment or .env: $STOREFRONT_URL"
else
  secret_file=$local_dir/webhook-secret
  if [ -z "${STOREFRONT_WEBHOOK_SECRET:-}" ]; then
    if [ ! -s "$secret_file" ]; then
      # Standard Webhooks secret: whsec_ and 32 random bytes in base64.
      (umask 077 && printf 'whsec_%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >"$secret_file")
    fi
    STOREFRONT_WEBHOOK_SECRET=$(tr -d '\n' <"$secret_file")
    export STOREFRONT_WEBHOOK_SECRET
  fi
  # One storefront per database: the sales a database's bot publishes must
  # all land on one shop, whichever run's scheduler publishes them. Its
  # folder is named after the database (a hash of DATABASE_URL when the
  # database is not the local cluster's).
  sf_key=$(database_key)
  sf_dir=$local_dir/storefront/$sf_key
  mkdir -p "$sf_dir/users"
  secret_sum=$(printf '%s' "$STOREFRONT_WEBHOOK_SECRET" | sha256sum | cut -c1-16)
  exec 7>"$sf_dir/lock"
  flock 7
  if storefront_running "$sf_dir" >/dev/null && port_open "$(cat "$sf_dir/port")"; then
    sf_port=$(cat "$sf_dir/port")
    if [ "$(cat "$sf_dir/secret.sum" 2>/dev/null)" != "$secret_sum" ]; then
      sf_dir=""
      say "the dev storefront for this database (port $sf_port) checks another STOREFRONT_WEBHOOK_SECRET than this run's; use the same secret as the run that started it, or quit that run first"
      exit 1
    fi
    say "the dev storefront for this database is already running on $sf_port (another start.sh); sharing it"
  else
    sf_port=${STOREFRONT_PORT:-$(cat "$sf_dir/port" 2>/dev/null || echo 8088)}
    if port_open "$sf_port"; then
      old_port=$sf_port
      sf_port=$(pg_pick_port)
      say "port $old_port is taken; the dev storefront uses $sf_port"
    fi
    # A free port can still be taken before the storefront binds it (another
    # program, an outgoing connection): then try another one, a few times.
    # In a session of its own, so a Ctrl-C in this terminal does not stop it
    # under another run that shares it; without the lock descriptors, so it
    # does not hold this run's locks after the run has gone.
    for attempt in 1 2 3 4 5; do
      setsid "$bin/flashsale-dev-storefront" --addr "127.0.0.1:$sf_port" --state "$sf_dir/state.json" \
        >"$sf_dir/storefront.log" 2>&1 7>&- 8>&- 9>&- &
      sf_pid=$!
      for _ in $(seq 1 100); do
        port_open "$sf_port" && break
        kill -0 "$sf_pid" 2>/dev/null || break
        sleep 0.2
      done
      kill -0 "$sf_pid" 2>/dev/null && port_open "$sf_port" && break
      if kill -0 "$sf_pid" 2>/dev/null; then
        kill "$sf_pid" 2>/dev/null || true
        say "the dev storefront did not answer on $sf_port"
        exit 1
      fi
      wait "$sf_pid" 2>/dev/null || true
      if [ "$attempt" -lt 5 ] && grep -q 'Address already in use' "$sf_dir/storefront.log"; then
        old_port=$sf_port
        sf_port=$(pg_pick_port)
        say "port $old_port was taken as the dev storefront started; trying $sf_port"
        continue
      fi
      say "the dev storefront stopped; its log:"
      cat "$sf_dir/storefront.log" >&2
      exit 1
    done
    printf '%s\n' "$sf_pid" >"$sf_dir/pid"
    printf '%s\n' "$sf_port" >"$sf_dir/port"
    printf '%s\n' "$secret_sum" >"$sf_dir/secret.sum"
    sf_started=1
  fi
  : >"$sf_dir/users/$$"
  exec 7>&-
  export STOREFRONT_URL="http://127.0.0.1:$sf_port"
fi

# --- Demo timing -----------------------------------------------------------------
# With the dev storefront, a session may start a few minutes from now, so the
# quick start reaches "live" in minutes instead of the production hour.
# Values in the environment or .env win (.env.example leaves them commented).
demo_timing=""
if [ -n "$sf_dir" ] || [ -n "$medusa_started" ]; then
  for var in MIN_LEAD_MINUTES APPROVAL_CUTOFF_MINUTES; do
    if [ -z "${!var:-}" ] && [ -z "$(dotenv_value "$var")" ]; then
      export "$var=1"
      demo_timing="$demo_timing $var=1"
    fi
  done
fi
if [ -n "$demo_timing" ]; then
  timing="demo:$demo_timing (a session may start a few minutes ahead)"
else
  timing="MIN_LEAD_MINUTES $(setting MIN_LEAD_MINUTES), APPROVAL_CUTOFF_MINUTES $(setting APPROVAL_CUTOFF_MINUTES)"
fi

# --- Health listener ---------------------------------------------------------------
# A fixed port would make a second run (or the tests) die with "Address already
# in use": a free one unless HTTP_ADDR is set.
if [ -z "${HTTP_ADDR:-}" ] && [ -z "$(dotenv_value HTTP_ADDR)" ]; then
  HTTP_ADDR="127.0.0.1:$(pg_pick_port)"
  export HTTP_ADDR
fi
http_addr=${HTTP_ADDR:-$(dotenv_value HTTP_ADDR)}
case "$http_addr" in
  [oO][fF][fF]) health="off (HTTP_ADDR=off)" ;;
  *) health="http://$http_addr/healthz, /readyz, /metrics" ;;
esac

# --- The bot -------------------------------------------------------------------
cat >&2 <<EOF

$(if [ -n "$medusa_started" ]; then
    echo "  Medusa store     $MEDUSA_URL (SHOP=medusa; keys and region in ${medusa_dir#"$PWD"/}/harness.json)"
  else
    echo "  Storefront page  ${STOREFRONT_URL%/}/$(if [ -n "$sf_dir" ] && [ -z "$sf_started" ]; then echo " (shared with another start.sh on this database)"; fi)"
  fi)
  Database         $(printf '%s' "$DATABASE_URL" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')
  Bot              $bot_where
  Timing           $timing
  Health           $health
  Exports          .local/exports (console \`export\` without dir:)
  Logs             $([ -n "$sf_dir" ] && echo "storefront: ${sf_dir#"$PWD"/}/storefront.log; ")bot: this terminal (stderr)

EOF


# Not exec: the trap must stop the storefront and Postgres when the bot ends.
"$bin/flashsale-bot" "$mode"
