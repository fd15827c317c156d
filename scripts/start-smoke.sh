#!/usr/bin/env bash
# Smoke test of the README's run command: scripts/start.sh the way a newcomer
# runs it, then the quick start typed into its console, from draft to live.
#
#   DATABASE_URL=postgres://... scripts/start-smoke.sh [--medusa]
#
# With --medusa, start.sh runs a local Medusa as the shop (SHOP=medusa) and
# the check after "is now live" is Medusa's Store API: what a shopper pays
# for FS-001 is its flash price, from the bot's price list.
#
# scripts/test.sh runs this after `cargo test`, against its throwaway Postgres
# (DATABASE_URL must be set, so start.sh does not start its own). start.sh
# starts the dev storefront on a free port (STOREFRONT_PORT) and the console
# chat; this script types the quick start's commands (editor alice drafts and
# pastes six SKUs, approver bob approves), waits for "is now live" and checks
# the storefront page shows the six tiles, then types `quit`.
#
# Timing: MIN_LEAD_MINUTES=0 and APPROVAL_CUTOFF_MINUTES=0, and the session
# starts at the next whole minute at least 15 s away (start times have minute
# precision), so reaching "live" waits 15-75 s for the real clock: no job is
# moved by hand. start.sh runs in its own process group, which is killed on
# exit, also on failure or timeout.
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
for token in DISCORD_TOKEN SLACK_BOT_TOKEN; do
  if [ -f .env ] && grep -Eq "^[[:space:]]*$token=[^[:space:]#]" .env; then
    say "SKIPPED: .env has a $token, so start.sh would run the bot in a chat platform, not the console"
    exit 0
  fi
done

# shellcheck source=scripts/pg.sh
source scripts/pg.sh   # for pg_pick_port and psql

# A database of its own on DATABASE_URL's server: a sale an earlier smoke run
# left live would otherwise overlap this run's window and refuse its approval.
smoke_db="flashsale_smoke_$$"
"$(pg_bindir)/psql" -X -q "$DATABASE_URL" -c "create database $smoke_db" >/dev/null
export DATABASE_URL="${DATABASE_URL%/*}/$smoke_db"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flashsale-smoke.XXXXXX")
out=$tmp/console.out   # the chat (stdout)
err=$tmp/start.err     # start.sh's messages, the build and the bot's logs (stderr)
smoke_pid=""
passed=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  exec 4>&-
  if [ -n "$smoke_pid" ] && kill -0 "$smoke_pid" 2>/dev/null; then
    # The whole group: start.sh, the bot, the dev storefront (and a build).
    kill -TERM -- "-$smoke_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$smoke_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$smoke_pid" 2>/dev/null || true
  fi
  if [ -z "$passed" ]; then
    say "FAILED; the console printed:"
    sed 's/^/  | /' "$out" >&2 2>/dev/null || true
    say "start.sh and the bot logged (last 40 lines):"
    tail -n 40 "$err" 2>/dev/null | sed 's/^/  | /' >&2 || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for FILE TEXT SECONDS: until FILE has a line containing TEXT; fails when
# the time is up or start.sh has ended.
wait_for() {
  local file=$1 text=$2 deadline=$((SECONDS + $3))
  until grep -qF -- "$text" "$file" 2>/dev/null; do
    if ! kill -0 "$smoke_pid" 2>/dev/null; then
      say "start.sh ended while waiting for \"$text\""
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "no \"$text\" within $3 s"
      return 1
    fi
    sleep 0.2
  done
}

type_in() { printf '%s\n' "$@" >&4; }

# YYYY-MM-DD HH:MM in the business zone (Asia/Jakarta, UTC+7, no DST) of the
# Unix time $1.
wib() { date -u -d "@$(($1 + 7 * 3600))" '+%Y-%m-%d %H:%M'; }

mkfifo "$tmp/console.in"
port=$(pg_pick_port)
# As a newcomer would, but non-interactive: no STOREFRONT_URL (start.sh starts
# the dev storefront), no Discord or Slack, demo timing tightened to zero lead.
(
  unset STOREFRONT_URL DISCORD_TOKEN SLACK_BOT_TOKEN CHAT
  export STOREFRONT_PORT=$port MIN_LEAD_MINUTES=0 APPROVAL_CUTOFF_MINUTES=0 \
    BUSINESS_TIME_ZONE=Asia/Jakarta
  exec setsid bash scripts/start.sh $shop_arg <"$tmp/console.in" >"$out" 2>"$err"
) &
smoke_pid=$!
exec 4>"$tmp/console.in"   # the console's stdin stays open until `quit`

# Built, migrated, storefront up. start.sh's `cargo build --bins` resolves
# features without the dev-dependencies, so after `cargo test` it rebuilds
# part of the dependency tree (serenity, sqlx, ...): minutes on two cores.
if [ -n "$shop_arg" ]; then
  wait_for "$err" "Medusa store" 900
else
  wait_for "$err" "Storefront page" 900
  page_url=$(sed -n 's/^ *Storefront page *//p' "$err" | head -n 1)
fi
wait_for "$out" "Acting as" 30          # the console is reading

type_in "as alice editor"
wait_for "$out" "Acting as alice" 15
# The next whole minute at least 15 s away: time enough to draft and approve.
now=$(date +%s)
starts=$(( (now + 15 + 59) / 60 * 60 ))
type_in "/flashsale draft title:\"Smoke Flash\" start:\"$(wib "$starts")\" end:\"$(wib $((starts + 1800)))\""
wait_for "$out" "Drafted #" 15
id=$(grep -o 'Drafted #[0-9]*' "$out" | head -n 1 | tr -dc '0-9')
type_in "/flashsale add-sku session:$id" \
  "FS-001 30% 50" "FS-002 25% 10" "FS-003 40% 5" "FS-004 20% 10" "FS-005 15% 5" "FS-006 10% 1" "."
wait_for "$out" "Added 6 of 6 lines" 15
type_in "/flashsale submit session:$id"
wait_for "$out" "Submitted #$id" 15
type_in "as bob approver" "press approve $id"
wait_for "$out" "Approved #$id" 15
say "approved #$id; it starts at $(wib "$starts") WIB, in $((starts - $(date +%s))) s"
wait_for "$out" "is now live" $((starts - $(date +%s) + 30))

if [ -n "$shop_arg" ]; then
  # What a shopper pays on Medusa for FS-001 (30 % off in the quick start).
  harness=.local/medusa/harness.json
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
else
# The storefront page (as a browser gets it) shows the six products.
host_port=${page_url#http://}
host_port=${host_port%%/*}
exec 3<>"/dev/tcp/${host_port%:*}/${host_port#*:}"
printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$host_port" >&3
page=$(cat <&3)
exec 3<&-
tiles=$(grep -o 'class="tile" data-sku="FS-00[1-6]"' <<<"$page" | sort -u | wc -l)
if [ "$tiles" -ne 6 ] || ! grep -qF "Smoke Flash" <<<"$page"; then
  say "the storefront page at $page_url does not show the six products:"
  printf '%s\n' "$page" >&2
  exit 1
fi
fi

type_in "quit"
exec 4>&-
for _ in $(seq 1 100); do kill -0 "$smoke_pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$smoke_pid" 2>/dev/null; then
  say "start.sh did not stop within 20 s of quit"
  exit 1
fi
wait "$smoke_pid" || { say "start.sh exited with status $?"; exit 1; }
smoke_pid=""
passed=1
if [ -n "$shop_arg" ]; then
  say "ok: draft -> approved (staged on Medusa) -> live, and Medusa sells at the flash price"
else
  say "ok: draft -> approved -> live, and the storefront page shows the six products"
fi
