#!/usr/bin/env bash
# Re-validates every golden card with Microsoft's Adaptive Cards renderer (max 1.5, strict) and renders each
# to docs/cards/<name>.png with the Microsoft Teams host config, in headless Chromium.
#
#   cards/render.sh                 # validate + render all golden cards (light theme)
#   cards/render.sh --dark          # also render docs/cards/dark/<name>.png
#   cards/render.sh --validate-only # no PNGs
#   cards/render.sh approval welcome   # only these cards
#
# Needs Node 20 + npm, and for rendering Chromium (apt-get install -y chromium fonts-open-sans). The card tools
# are installed on demand into $CARDTOOLS (default /tmp/cardtools) by the setup script in $CARDTOOLS_SETUP
# (default ../shared/tools/setup.sh next to the repository). Regenerate the golden files first with
# `go test ./cards -update`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tools=${CARDTOOLS:-/tmp/cardtools}
setup=${CARDTOOLS_SETUP:-$repo/../shared/tools/setup.sh}
dark=0 render=1 names=()
for a in "$@"; do
  case $a in
    --dark) dark=1 ;;
    --validate-only) render=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) names+=("$a") ;;
  esac
done

if [ ! -f "$tools/validate-cards.cjs" ] || [ ! -d "$tools/node_modules/adaptivecards" ]; then
  if [ ! -f "$setup" ]; then
    echo "card tools missing in $tools and no setup script at $setup (set CARDTOOLS or CARDTOOLS_SETUP)" >&2
    exit 1
  fi
  echo "installing card tools into $tools" >&2
  CARDTOOLS=$tools bash "$setup" >&2
fi

golden=$repo/cards/testdata/golden
files=()
if [ ${#names[@]} -eq 0 ]; then
  files=("$golden"/*.json)
else
  for n in "${names[@]}"; do files+=("$golden/${n%.json}.json"); done
fi

node "$tools/validate-cards.cjs" --max 1.5 --strict "${files[@]}"
[ $render -eq 1 ] || exit 0

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: apt-get install -y chromium fonts-open-sans" >&2
  exit 1
fi
out=$repo/docs/cards
mkdir -p "$out"
[ $dark -eq 0 ] || mkdir -p "$out/dark"
for f in "${files[@]}"; do
  name=$(basename "$f" .json)
  node "$tools/render-card.cjs" "$f" "$out/$name.png" --theme light >/dev/null
  [ $dark -eq 0 ] || node "$tools/render-card.cjs" "$f" "$out/dark/$name.png" --theme dark >/dev/null
  echo "rendered $name"
done
