#!/usr/bin/env bash
# `make e2e`: the whole demo story through real Microsoft 365 Agents Playground instances (docs/PLAYGROUND.md).
#
#   scripts/e2e.sh [--keep] [--screenshots DIR] [--no-clock] [--timeout S] [--delivery-timeout S]
#
# (every flag but --keep goes to scripts/playground/e2e.mjs: --screenshots saves a PNG of each chat, --no-clock skips
# the end-of-access act (simulator clock +27 days), the timeouts bound each step.)
#
# Builds bin/accessbot, starts a fresh `accessbot demo --reset` on its own loopback ports (bot 13978, simulator
# 13979; override with E2E_BOT_PORT / E2E_SIM_PORT) with its data in a temporary directory, so it never touches
# a running `make run` or .data. Waits for /readyz, runs scripts/playground/e2e.mjs against it and always stops
# what it started. On failure it prints the tail of the bot's log. Exit code 0 = every step passed.
# The temporary directory (bot.log, data/, transcript.txt: every chat as text) is removed after a pass and kept
# after a failure; --keep keeps it always.
#
# Needs Go, Node 20+, npm and curl (the pinned Playground is installed on demand into
# scripts/playground/node_modules); --screenshots also needs Chromium (apt-get install -y chromium fonts-open-sans).
# E2E_READY_TIMEOUT (default 60 s) bounds the wait for /readyz.
# E2E_LOCALES="guest=de-DE" starts that persona's Playground with that Teams locale: the bot answers it in its
# language (German, French; English otherwise) and the story checks that persona's chat in it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bot_port=${E2E_BOT_PORT:-13978}
sim_port=${E2E_SIM_PORT:-13979}
ready_timeout=${E2E_READY_TIMEOUT:-60}
[[ "$ready_timeout" =~ ^[0-9]+$ ]] || { echo "e2e: E2E_READY_TIMEOUT must be whole seconds, got \"$ready_timeout\"" >&2; exit 2; }
keep=0
pass=()
for a in "$@"; do
  case $a in
    --keep) keep=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) pass+=("$a") ;;
  esac
done

command -v node >/dev/null || { echo "e2e: node (20+) is required" >&2; exit 1; }
command -v curl >/dev/null || { echo "e2e: curl is required (to poll the bot's /readyz)" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "e2e: node 20+ is required, found $(node --version)" >&2; exit 1; }
node_flags=()
[ "$node_major" -ge 22 ] || node_flags+=(--experimental-websocket)

for port in "$bot_port" "$sim_port"; do
  if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "e2e: E2E_BOT_PORT / E2E_SIM_PORT must be TCP port numbers (1-65535), got \"$port\"" >&2
    exit 2
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "e2e: 127.0.0.1:$port is already in use (another e2e run?); set E2E_BOT_PORT / E2E_SIM_PORT" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/accessbot-e2e.XXXXXX")
log="$work/bot.log"
bot_pid=""
node_pid=""
# stop PID SECONDS: SIGTERM, then SIGKILL if it is still there after SECONDS.
stop() {
  kill -TERM "$1" 2>/dev/null || return 0
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
  rc=$?
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then stop "$node_pid" 15; fi
  # The bot's graceful shutdown has a 10 s budget.
  if [ -n "$bot_pid" ]; then stop "$bot_pid" 15; fi
  if [ "$rc" -ne 0 ] && [ -f "$log" ]; then
    echo "--- last 60 lines of the bot's log ($log) ---" >&2
    tail -n 60 "$log" >&2
    keep=1 # the bot log, its data and the chats' transcript are the evidence
  fi
  if [ "$keep" = 1 ]; then echo "e2e: kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$SECONDS
echo "e2e: building bin/accessbot" >&2
(cd "$root" && make --no-print-directory build >&2)
# Run a private copy: a concurrent rebuild of bin/accessbot must not change the binary under the test.
cp "$root/bin/accessbot" "$work/accessbot"

"$work/accessbot" demo --reset --data "$work/data" --addr "127.0.0.1:$bot_port" --sim-addr "127.0.0.1:$sim_port" \
  >"$log" 2>&1 &
bot_pid=$!

deadline=$((SECONDS + ready_timeout))
until curl -fsS "http://127.0.0.1:$bot_port/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$bot_pid" 2>/dev/null; then
    bot_pid=""
    echo "e2e: accessbot demo exited before it was ready" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "e2e: accessbot demo not ready on 127.0.0.1:$bot_port after ${ready_timeout}s" >&2
    exit 1
  fi
  sleep 0.2
done
echo "e2e: accessbot demo ready on 127.0.0.1:$bot_port (simulator 127.0.0.1:$sim_port) after $((SECONDS - started))s" >&2

# In the background so that a signal to this script runs the trap at once; the trap stops node (which stops its
# Playgrounds) before the bot.
node "${node_flags[@]}" "$root/scripts/playground/e2e.mjs" --transcript "$work/transcript.txt" \
  --bot "http://127.0.0.1:$bot_port/api/messages" --sim "http://127.0.0.1:$sim_port" "${pass[@]}" &
node_pid=$!
wait "$node_pid"
node_pid=""
# Every step passed; errors the bot logged anyway are worth a look.
if grep -q 'level=ERROR' "$log"; then
  echo "e2e: passed, but the bot logged errors:" >&2
  grep 'level=ERROR' "$log" | cut -c1-400 >&2
fi
