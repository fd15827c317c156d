#!/usr/bin/env bash
# Smoke test of the README's run command: scripts/start.sh the way a newcomer
# runs it, then the quick start typed into its console, from draft to live.
#
#   DATABASE_URL=postgres://... scripts/start-smoke.sh [--medusa]
#
# Without --medusa, as somebody trying it in one checkout would: start.sh
# starts its own Postgres (in a temporary FLASHSALE_LOCAL_DIR, never the
# checkout's .local) and the dev storefront. A second start.sh runs beside the
# first. The quick start is typed into the first console (editor alice drafts
# and pastes six SKUs, approver bob approves); after "is now live" the
# storefront page the first run printed shows the six tiles, while the second
# run has a database and a storefront of its own that show nothing of it.
# Then the first run is restarted: its storefront still shows the sale (the dev
# storefront kept it on disk) and the bot raises no "missing on the
# storefront" alarm. Every run quits by `quit`, and no storefront or
# Postgres is left running.
#
# With --medusa, one start.sh runs a local Medusa as the shop (SHOP=medusa)
# against DATABASE_URL's server, and the check after "is now live" is Medusa's
# Store API: what a shopper pays for FS-001 is its flash price.
#
# scripts/test.sh runs both after `cargo test`. Timing: MIN_LEAD_MINUTES=0
# and APPROVAL_CUTOFF_MINUTES=0, and the session starts at the next whole
# minute at least 15 s away (start times have minute precision), so reaching
# "live" waits 15-75 s for the real clock: no job is moved by hand. Each
# start.sh runs in its own process group, killed on exit, also on failure or
# timeout.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[smoke] %s\n' "$*" >&2; }
shop_arg=""
case "${1:-}" in
  "") ;;
  --medusa) shop_arg=--medusa ;;
  *) say "unknown argument $1 (expected --medusa or nothing)"; exit 1 ;;
esac

[ -n "${DATABASE_URL:-}" ] || { say "DATABASE_URL is not set (scripts/test.sh sets it)"; exit 1; }
dotenv_sets() { [ -f .env ] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?$1=[^[:space:]#]" .env; }
for token in DISCORD_TOKEN SLACK_BOT_TOKEN; do
  if dotenv_sets "$token"; then
    say "SKIPPED: .env has a $token, so start.sh would run the bot in a chat platform, not the console"
    exit 0
  fi
done
if [ -z "$shop_arg" ]; then
  for var in DATABASE_URL STOREFRONT_URL; do
    if dotenv_sets "$var"; then
      say "SKIPPED: .env sets $var, so start.sh would not start its own Postgres and dev storefront"
      exit 0
    fi
  done
fi

# shellcheck source=scripts/pg.sh
source scripts/pg.sh   # for pg_pick_port, psql and pg_stop

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flashsale-smoke.XXXXXX")
# As root, start.sh's Postgres runs as the postgres user, which must reach
# the local folder through this one.
chmod o+x "$tmp"
local_dir=$tmp/local   # start.sh's .local for the runs without --medusa
runs=""                # the names of the runs started, for cleanup
passed=""

# Per run NAME: $tmp/NAME.in (the console's stdin, a fifo held open by a
# sleeper until `quit`), NAME.out (the chat), NAME.err (start.sh's messages,
# the build and the bot's log), NAME.pid (start.sh, leader of its group).
run_pid() { cat "$tmp/$1.pid" 2>/dev/null; }

stop_run() {
  local pid
  pid=$(run_pid "$1")
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    # The whole group: start.sh, the bot (and a build).
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  kill "$(cat "$tmp/$1.holder" 2>/dev/null)" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local name pidfile
  for name in $runs; do stop_run "$name"; done
  if [ -z "$passed" ]; then
    for name in $runs; do
      say "FAILED; the console of run $name printed:"
      sed 's/^/  | /' "$tmp/$name.out" >&2 2>/dev/null || true
      say "run $name's start.sh and bot logged (last 40 lines):"
      tail -n 40 "$tmp/$name.err" 2>/dev/null | sed 's/^/  | /' >&2 || true
    done
  fi
  # What a run killed by force could not stop: its storefronts (own sessions)
  # and the Postgres it started.
  for pidfile in "$local_dir"/storefront/*/pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  [ -d "$local_dir/pg" ] && pg_stop "$local_dir/pg"
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_run NAME [VAR=VALUE ...]: scripts/start.sh as a newcomer runs it, but
# non-interactive: no STOREFRONT_URL, no Discord or Slack, demo timing
# tightened to zero lead, and the given variables.
start_run() {
  local name=$1
  shift
  mkfifo "$tmp/$name.in"
  (
    unset STOREFRONT_URL DISCORD_TOKEN SLACK_BOT_TOKEN CHAT
    export MIN_LEAD_MINUTES=0 APPROVAL_CUTOFF_MINUTES=0 BUSINESS_TIME_ZONE=Asia/Jakarta
    for assignment in "$@"; do
      case "$assignment" in
        *=) unset "${assignment%=}" ;;
        *) export "${assignment?}" ;;
      esac
    done
    exec setsid bash scripts/start.sh $shop_arg <"$tmp/$name.in" >"$tmp/$name.out" 2>"$tmp/$name.err"
  ) &
  printf '%s\n' "$!" >"$tmp/$name.pid"
  # Holds the console's stdin open until `quit` (a writer closing ends it).
  sleep 100000 >"$tmp/$name.in" &
  printf '%s\n' "$!" >"$tmp/$name.holder"
  case " $runs " in *" $name "*) ;; *) runs="$runs $name" ;; esac
}

# wait_for NAME FILE TEXT SECONDS: until run NAME's FILE (out or err) has a
# line containing TEXT; fails when the time is up or the run has ended.
wait_for() {
  local name=$1 file=$tmp/$1.$2 text=$3 deadline=$((SECONDS + $4))
  until grep -qF -- "$text" "$file" 2>/dev/null; do
    if ! kill -0 "$(run_pid "$name")" 2>/dev/null; then
      say "run $name ended while waiting for \"$text\""
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "run $name: no \"$text\" within $4 s"
      return 1
    fi
    sleep 0.2
  done
}

type_in() {
  local name=$1
  shift
  printf '%s\n' "$@" >"$tmp/$name.in"
}

# quit_run NAME: types `quit` and waits for start.sh to stop on its own.
quit_run() {
  local pid
  pid=$(run_pid "$1")
  type_in "$1" quit
  kill "$(cat "$tmp/$1.holder")" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    say "run $1: start.sh did not stop within 20 s of quit"
    return 1
  fi
  wait "$pid" || { say "run $1: start.sh exited with status $?"; return 1; }
}

# banner NAME LABEL: the first word after LABEL in run NAME's banner.
banner() { sed -n "s/^ *$2 *\([^ ]*\).*/\1/p" "$tmp/$1.err" | head -n 1; }

# http_get URL PATH: the answer (headers and body) to GET PATH on URL's host.
http_get() {
  local host_port=${1#http://}
  host_port=${host_port%%/*}
  exec 3<>"/dev/tcp/${host_port%:*}/${host_port#*:}"
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$2" "$host_port" >&3
  cat <&3
  exec 3<&-
}

# page URL: the storefront page as a browser gets it.
page() { http_get "$1" /; }

# shows_the_sale URL: the page shows "Smoke Flash" and its six tiles.
shows_the_sale() {
  local html tiles
  html=$(page "$1")
  tiles=$(grep -o 'class="tile" data-sku="FS-00[1-6]"' <<<"$html" | sort -u | wc -l)
  [ "$tiles" -eq 6 ] && grep -qF "Smoke Flash" <<<"$html"
}

# YYYY-MM-DD HH:MM in the business zone (Asia/Jakarta, UTC+7, no DST) of the
# Unix time $1.
wib() { date -u -d "@$(($1 + 7 * 3600))" '+%Y-%m-%d %H:%M'; }

# quick_start NAME: the README's quick start in run NAME's console, from the
# draft to "is now live"; prints the session's number.
quick_start() {
  local name=$1 now starts id
  type_in "$name" "as alice editor"
  wait_for "$name" out "Acting as alice" 15
  # The next whole minute at least 15 s away: time enough to draft and approve.
  now=$(date +%s)
  starts=$(( (now + 15 + 59) / 60 * 60 ))
  type_in "$name" "/flashsale draft title:\"Smoke Flash\" start:\"$(wib "$starts")\" end:\"$(wib $((starts + 1800)))\""
  wait_for "$name" out "Drafted #" 15
  id=$(grep -o 'Drafted #[0-9]*' "$tmp/$name.out" | head -n 1 | tr -dc '0-9')
  type_in "$name" "/flashsale add-sku session:$id" \
    "FS-001 30% 50" "FS-002 25% 10" "FS-003 40% 5" "FS-004 20% 10" "FS-005 15% 5" "FS-006 10% 1" "."
  wait_for "$name" out "Added 6 of 6 lines" 15
  type_in "$name" "/flashsale submit session:$id"
  wait_for "$name" out "Submitted #$id" 15
  type_in "$name" "as bob approver" "press approve $id"
  wait_for "$name" out "Approved #$id" 15
  say "run $name approved #$id; it starts at $(wib "$starts") WIB, in $((starts - $(date +%s))) s"
  wait_for "$name" out "is now live" $((starts - $(date +%s) + 30))
}

if [ -n "$shop_arg" ]; then
  # A database of its own on DATABASE_URL's server: a sale an earlier smoke
  # run left live would otherwise overlap this run's window.
  smoke_db="flashsale_smoke_$$"
  "$(pg_bindir)/psql" -X -q "$DATABASE_URL" -c "create database $smoke_db" >/dev/null
  # start.sh's `cargo build --bins` resolves features without the
  # dev-dependencies, so after `cargo test` it rebuilds part of the
  # dependency tree (serenity, sqlx, ...): minutes on two cores.
  start_run medusa "DATABASE_URL=${DATABASE_URL%/*}/$smoke_db" "FLASHSALE_LOCAL_DIR=$local_dir"
  wait_for medusa err "Medusa store" 900
  wait_for medusa out "Acting as" 30
  quick_start medusa
  # What a shopper pays on Medusa for FS-001 (30 % off in the quick start).
  harness=$(sed -n 's/.*keys and region in \([^ )]*\)).*/\1/p' "$tmp/medusa.err" | head -n 1)
  priced=$(python3 - "$harness" <<'PY'
import json, sys, urllib.request
h = json.load(open(sys.argv[1]))
url = (h["url"] + "/store/product-variants?sku[]=FS-001&region_id=" + h["region_id"]
       + "&fields=sku,*calculated_price")
req = urllib.request.Request(url, headers={"x-publishable-api-key": h["publishable_api_key"]})
v = json.load(urllib.request.urlopen(req, timeout=10))["variants"][0]["calculated_price"]
print(v["calculated_amount"], v["original_amount"])
PY
  )
  read -r shown regular <<<"$priced"
  if [ "$(python3 -c "print(round($regular*0.7) == round($shown))")" != True ]; then
    say "Medusa does not sell FS-001 at its flash price: shown $shown, regular $regular"
    exit 1
  fi
  say "Medusa sells FS-001 at $shown instead of $regular"
  quit_run medusa
  passed=1
  say "ok: draft -> approved (staged on Medusa) -> live, and Medusa sells at the flash price"
  exit 0
fi

# --- Two start.sh in one checkout, then a restart -----------------------------
local_runs=("DATABASE_URL=" "FLASHSALE_LOCAL_DIR=$local_dir")
start_run first "${local_runs[@]}" "STOREFRONT_PORT=$(pg_pick_port)"
wait_for first err "Storefront page" 900
wait_for first out "Acting as" 30
start_run second "${local_runs[@]}" "STOREFRONT_PORT=$(pg_pick_port)"
wait_for second err "Storefront page" 300
wait_for second out "Acting as" 30
first_page=$(banner first "Storefront page")
second_page=$(banner second "Storefront page")
first_db=$(banner first Database)
second_db=$(banner second Database)
if [ "$first_page" = "$second_page" ] || [ "$first_db" = "$second_db" ]; then
  say "two consoles in one checkout share a storefront ($first_page, $second_page) or a database ($first_db, $second_db)"
  exit 1
fi

quick_start first
if ! shows_the_sale "$first_page"; then
  say "the storefront page the first run printed ($first_page) does not show the six products:"
  page "$first_page" >&2
  exit 1
fi
if page "$second_page" | grep -qF "Smoke Flash" || grep -qF "Smoke Flash" "$tmp/second.out"; then
  say "the second run's storefront or console shows the first run's sale"
  exit 1
fi
say "the first run's storefront ($first_page) shows the sale; the second's ($second_page) does not"

# A restart during the sale: the storefront kept it, so the bot finds it there.
quit_run first
if shows_the_sale "$first_page" 2>/dev/null; then
  say "the first run's storefront still answers after its only run quit"
  exit 1
fi
mv "$tmp/first.out" "$tmp/first-before.out"
rm -f "$tmp/first.in"
start_run first "${local_runs[@]}"
wait_for first err "Storefront page" 300
wait_for first out "Acting as" 30
restarted_page=$(banner first "Storefront page")
if [ "$(banner first Database)" != "$first_db" ]; then
  say "the restarted run took another database: $(banner first Database), not $first_db"
  exit 1
fi
if ! shows_the_sale "$restarted_page"; then
  say "after a restart the storefront ($restarted_page) no longer shows the live sale"
  exit 1
fi
# The reconciler looks at once at start: give it a few seconds to (wrongly)
# find the sale missing, publish it again and alarm.
sleep 5
if grep -qF "missing on the storefront" "$tmp/first.out" \
    || http_get "$restarted_page" /admin/calls | grep -qF '"method":"PUT"'; then
  say "after a restart the bot found the live sale missing on the storefront and published it again"
  exit 1
fi
say "restarted: the storefront ($restarted_page) still shows the sale, no alarm"

quit_run first
quit_run second
for pidfile in "$local_dir"/storefront/*/pid; do
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "a dev storefront is still running after every run quit ($pidfile)"
    exit 1
  fi
done
if [ -f "$local_dir/pg/data/postmaster.pid" ]; then
  say "the local Postgres is still running after every run quit"
  exit 1
fi
passed=1
say "ok: two runs side by side, draft -> approved -> live on the first one's storefront, kept across a restart"
