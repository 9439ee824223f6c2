#!/usr/bin/env bash
# Starts the Microsoft 365 Agents Playground (pinned in package.json) as one demo persona, against the bot at
# $PLAYGROUND_BOT_ENDPOINT (default http://127.0.0.1:3978/api/messages, what `make run` serves).
#
#   scripts/playground/run.sh PERSONA [PORT]      PERSONA: requester | approver | guest | admin, or one of
#                                                 the generated people: patti | fiona | isaiah | lynne | megan | nina
#
# Default ports: requester 56150, approver 56151, guest 56152, admin 56153, patti 56154 … megan 56158. The
# Playground silently falls back to a random port when the requested one is busy, so the real port is read from
# its "Listening on" line, printed, and written to .playground/<persona>/port for scripts. It runs in the
# foreground until Ctrl-C.
#
# PLAYGROUND_LOCALE=de-DE (or fr-FR, …) sets the persona's Teams locale: the Playground always sends en-US, so a
# loopback proxy (startLocaleProxy in e2e.mjs) stamps the locale on every activity on its way to the bot, as Teams
# does; AccessBot answers in German or French (English for any other language).
#
# The Playground is Microsoft pre-release software: npm installs it on demand into scripts/playground/node_modules
# (never committed). Telemetry and the browser launch are switched off; it works offline.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() { echo "usage: $0 requester|approver|guest|admin|patti|fiona|isaiah|lynne|megan|nina [PORT]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
persona=$1
case "$persona" in
  requester) default_port=56150 ;;
  approver) default_port=56151 ;;
  guest) default_port=56152 ;;
  admin) default_port=56153 ;;
  # People with no committed persona file (sponsors, stage-2 reviewers, another report): generated from the
  # seed by scripts/playground/e2e.mjs (extraPersonas).
  patti) default_port=56154 ;;
  fiona) default_port=56155 ;;
  isaiah) default_port=56156 ;;
  lynne) default_port=56157 ;;
  megan) default_port=56158 ;;
  nina) default_port=56159 ;;
  *) echo "run.sh: unknown persona \"$persona\" (want requester, approver, guest, admin, patti, fiona, isaiah, lynne, megan or nina)" >&2; exit 2 ;;
esac
port=${2:-$default_port}
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  echo "run.sh: PORT \"$port\" is not a TCP port number (1-65535)" >&2; exit 2
fi
endpoint=${PLAYGROUND_BOT_ENDPOINT:-http://127.0.0.1:3978/api/messages}
config="$root/manifest/playground/$persona.yml"
if [ ! -f "$config" ]; then
  # A generated persona: write the files into .playground/generated (the same ones make e2e uses).
  gen="$root/.playground/generated"
  mkdir -p "$gen"
  node --input-type=module -e "import { writeExtraPersonas } from '$here/e2e.mjs'; writeExtraPersonas('$gen');"
  config="$gen/$persona.yml"
fi
[ -f "$config" ] || { echo "run.sh: persona file $config is missing" >&2; exit 1; }

# Install on demand, and again if the installed version is not the one pinned in package.json (the same check
# and install as make e2e).
node --input-type=module -e "import { ensureInstalled } from '$here/e2e.mjs';
try { ensureInstalled(); } catch (e) { console.error('run.sh: ' + e.message); process.exit(1); }"
bin="$here/node_modules/.bin/agentsplayground"
[ -x "$bin" ] || { echo "run.sh: $bin not found after npm install" >&2; exit 1; }

# One working directory per persona: the Playground reads .m365agentsplayground.yml from its cwd and writes its
# log under ./devTools there.
work="$root/.playground/$persona"
mkdir -p "$work"
if [ -f "$work/pid" ] && kill -0 "$(cat "$work/pid")" 2>/dev/null; then
  echo "run.sh: the $persona Playground is already running (pid $(cat "$work/pid"), port $(cat "$work/port" 2>/dev/null || echo '?'))" >&2
  exit 1
fi
cp "$config" "$work/.m365agentsplayground.yml"
log="$work/playground.out"
rm -f "$work/port" "$log"

cd "$work"
proxy=""
if [ -n "${PLAYGROUND_LOCALE:-}" ]; then
  # The Playground always sends locale en-US; a loopback proxy stamps the persona's locale on what reaches the bot.
  [[ "$PLAYGROUND_LOCALE" =~ ^[a-z]{2}(-[A-Z]{2})?$ ]] || { echo "run.sh: PLAYGROUND_LOCALE \"$PLAYGROUND_LOCALE\" is not like de-DE" >&2; exit 2; }
  node --input-type=module -e "import { startLocaleProxy } from '$here/e2e.mjs';
const p = await startLocaleProxy(process.argv[1], process.argv[2]); console.log(p.url);" "$endpoint" "$PLAYGROUND_LOCALE" >"$work/proxy.url" &
  proxy=$!
  for _ in $(seq 1 50); do [ -s "$work/proxy.url" ] && break; sleep 0.1; done
  [ -s "$work/proxy.url" ] || { echo "run.sh: the locale proxy did not start" >&2; kill "$proxy" 2>/dev/null; exit 1; }
  endpoint=$(cat "$work/proxy.url")
  echo "persona $persona speaks $PLAYGROUND_LOCALE (through $endpoint)"
fi
APPLICATION_INSIGHTS_NO_STATSBEAT=true TEAMSAPPTESTER_BROWSER=none \
  "$bin" -e "$endpoint" -c msteams -p "$port" --disable-telemetry >"$log" 2>&1 &
child=$!
echo "$child" >"$work/pid"
tailer=""
trap 'kill $child $tailer $proxy 2>/dev/null || true; rm -f "$work/pid" "$work/port" "$work/proxy.url"' EXIT
trap 'exit 130' INT TERM

# Wait for "Listening on N" (poll with a deadline).
real=""
deadline=$((SECONDS + ${PLAYGROUND_START_TIMEOUT:-60}))
while [ -z "$real" ]; do
  if ! kill -0 "$child" 2>/dev/null; then
    echo "run.sh: the Playground exited before listening:" >&2; cat "$log" >&2; exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "run.sh: no \"Listening on\" line after ${PLAYGROUND_START_TIMEOUT:-60}s:" >&2; cat "$log" >&2; exit 1
  fi
  real=$(sed -n 's/^Listening on \([0-9][0-9]*\)$/\1/p' "$log" | head -n1)
  [ -n "$real" ] || sleep 0.2
done
echo "$real" >"$work/port"
if [ "$real" != "$port" ]; then
  echo "run.sh: WARNING: port $port was busy; the Playground listens on $real instead" >&2
fi
echo "Agents Playground as $persona ($(sed -n 's/^currentUser: {id: "[^"]*", name: \([^,]*\),.*/\1/p' "$config")): http://127.0.0.1:$real  (bot: $endpoint; log: $log)"

# Stream the Playground's output until it exits or we are interrupted.
tail -n +1 -f "$log" --pid="$child" &
tailer=$!
wait "$child"
