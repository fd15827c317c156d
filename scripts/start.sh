#!/usr/bin/env bash
# Runs the whole bot on this machine: Postgres, the dev storefront and the bot.
#
#   scripts/start.sh
#
# - Postgres: a local cluster in .local/pg (installed with apt when missing),
#   kept between runs so drafts survive; skipped when DATABASE_URL is set in
#   the environment.
# - Dev storefront: flashsale-dev-storefront on 127.0.0.1:8088 (STOREFRONT_PORT
#   to choose another; a free port when it is taken), with a webhook secret
#   generated once into .local/webhook-secret; skipped when STOREFRONT_URL is
#   set in the environment.
# - The bot in the foreground: in Discord when .env (or the environment) has a
#   DISCORD_TOKEN, otherwise in this terminal (`flashsale-bot console`).
#
# Ctrl-C (or `quit` in the console) stops what this script started; the data
# folder stays for next time.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh

say() { printf '[start] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

local_dir=$PWD/.local
mkdir -p "$local_dir"
started_pg=""
storefront_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$storefront_pid" ] && kill -0 "$storefront_pid" 2>/dev/null; then
    say "stopping the dev storefront"
    kill "$storefront_pid" 2>/dev/null || true
    wait "$storefront_pid" 2>/dev/null || true
  fi
  if [ -n "$started_pg" ]; then
    say "stopping Postgres (data kept in $started_pg/data)"
    pg_stop "$started_pg"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v cargo >/dev/null 2>&1 || {
  say "cargo not found: install Rust first (https://rustup.rs), then run this again"
  exit 1
}

# --- Postgres ----------------------------------------------------------------
if [ -n "${DATABASE_URL:-}" ]; then
  say "using DATABASE_URL from the environment"
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
  if [ -f "$pg_dir/data/postmaster.pid" ] && [ -n "$(pg_bindir)" ] \
      && pg_as_owner "$(pg_bindir)/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; then
    # Started by another run that is still going: share it, leave it running.
    port=$(sed -n 4p "$pg_dir/data/postmaster.pid")
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    say "Postgres is already running on port $port (another start.sh?); using it"
  else
    port=54329
    pg_port_free "$port" || port=""
    pg_start "$pg_dir" "$port"
    started_pg=$pg_dir
  fi
fi

# --- Build and migrate ---------------------------------------------------------
say "building (the first build takes a few minutes)"
cargo build --bins
bin=$PWD/target/debug
"$bin/flashsale-bot" migrate >&2   # its log line is not part of the chat

# --- Dev storefront ------------------------------------------------------------
if [ -n "${STOREFRONT_URL:-}" ]; then
  say "using STOREFRONT_URL from the environment: $STOREFRONT_URL"
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
  sf_port=${STOREFRONT_PORT:-8088}
  if port_open "$sf_port"; then
    sf_port=$(pg_pick_port)
    say "port ${STOREFRONT_PORT:-8088} is taken; the dev storefront uses $sf_port"
  fi
  # A free port can still be taken before the storefront binds it (another
  # program, an outgoing connection): then try another one, a few times.
  for attempt in 1 2 3 4 5; do
    "$bin/flashsale-dev-storefront" --addr "127.0.0.1:$sf_port" >"$local_dir/storefront.log" 2>&1 &
    storefront_pid=$!
    for _ in $(seq 1 100); do
      port_open "$sf_port" && break
      kill -0 "$storefront_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$storefront_pid" 2>/dev/null && port_open "$sf_port" && break
    if kill -0 "$storefront_pid" 2>/dev/null; then
      say "the dev storefront did not answer on $sf_port"
      exit 1
    fi
    wait "$storefront_pid" 2>/dev/null || true
    storefront_pid=""
    if [ "$attempt" -lt 5 ] && grep -q 'Address already in use' "$local_dir/storefront.log"; then
      old_port=$sf_port
      sf_port=$(pg_pick_port)
      say "port $old_port was taken as the dev storefront started; trying $sf_port"
      continue
    fi
    say "the dev storefront stopped; its log:"
    cat "$local_dir/storefront.log" >&2
    exit 1
  done
  export STOREFRONT_URL="http://127.0.0.1:$sf_port"
fi

# --- Demo timing -----------------------------------------------------------------
# With the dev storefront, a session may start a few minutes from now, so the
# quick start reaches "live" in minutes instead of the production hour.
# Values in the environment or .env win.
demo_timing=""
if [ -n "$storefront_pid" ]; then
  for var in MIN_LEAD_MINUTES APPROVAL_CUTOFF_MINUTES; do
    if [ -z "${!var:-}" ] && ! { [ -f .env ] && grep -Eq "^[[:space:]]*$var=" .env; }; then
      export "$var=1"
      demo_timing="$demo_timing $var=1"
    fi
  done
fi

# --- The bot -------------------------------------------------------------------
mode=console
if [ -n "${DISCORD_TOKEN:-}" ] || { [ -f .env ] && grep -Eq '^[[:space:]]*DISCORD_TOKEN=[^[:space:]#]' .env; }; then
  mode=run
fi

cat >&2 <<EOF

  Storefront page  ${STOREFRONT_URL%/}/
  Database         $(printf '%s' "$DATABASE_URL" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')
  Bot              $([ "$mode" = run ] && echo "in Discord (DISCORD_TOKEN is set)" || echo "console in this terminal (no DISCORD_TOKEN in .env): try \`help\`")
  Logs             $([ -n "$storefront_pid" ] && echo "storefront: .local/storefront.log; ")bot: this terminal (stderr)

EOF

[ -z "$demo_timing" ] || say "demo timing:$demo_timing (sessions may start a few minutes ahead; set them in .env to change)"

# Not exec: the trap must stop the storefront and Postgres when the bot ends.
"$bin/flashsale-bot" "$mode"
