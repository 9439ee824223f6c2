#!/usr/bin/env bash
# Re-validates every golden card with Microsoft's Adaptive Cards renderer (max 1.5, strict) and renders each
# to docs/cards/<name>.png (English) and docs/cards/de/<name>.png (German) with the Microsoft Teams host config,
# in headless Chromium.
#
#   cards/render.sh                       # validate + render all golden cards, every language (light theme)
#   cards/render.sh --dark                # also render docs/cards/dark/<name>.png (Teams dark host config)
#   cards/render.sh --contrast            # also render docs/cards/high-contrast/<name>.png (Teams high contrast)
#   cards/render.sh --validate-only       # no PNGs
#   cards/render.sh approval welcome      # only these cards (English and German)
#   cards/render.sh --dark --contrast --only-themes welcome approval   # only the dark/contrast renders
#
# High contrast: the shared render tool knows the light and dark Teams themes; for Teams' high-contrast theme
# this script builds a host config from cards/hostconfig/teams-high-contrast.json (black background, white text,
# yellow accents, colored states that are also written in words) and runs the same tool on it.
#
# Needs Node 20 + npm, and for rendering Chromium (apt-get install -y chromium fonts-open-sans). The card tools
# are installed on demand into $CARDTOOLS (default /tmp/cardtools) by the setup script in $CARDTOOLS_SETUP
# (default ../shared/tools/setup.sh next to the repository). Regenerate the golden files first with
# `go test ./cards -update`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tools=${CARDTOOLS:-/tmp/cardtools}
setup=${CARDTOOLS_SETUP:-$repo/../shared/tools/setup.sh}
dark=0 contrast=0 render=1 light=1 names=()
for a in "$@"; do
  case $a in
    --dark) dark=1 ;;
    --contrast) contrast=1 ;;
    --only-themes) light=0 ;;
    --validate-only) render=0 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
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
  files=("$golden"/*.json "$golden"/de/*.json)
else
  for n in "${names[@]}"; do
    files+=("$golden/${n%.json}.json")
    [ ! -f "$golden/de/${n%.json}.json" ] || files+=("$golden/de/${n%.json}.json")
  done
fi

# One card per run: the renderer checks "lang" with a global (stateful) regular expression, so in one process
# every second card's valid "lang" is reported as invalid; each card alone validates as Teams parses it.
failed=0
for f in "${files[@]}"; do
  node "$tools/validate-cards.cjs" --max 1.5 --strict "$f" || failed=1
done
[ $failed -eq 0 ] || { echo "card validation failed" >&2; exit 1; }
[ $render -eq 1 ] || exit 0

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: apt-get install -y chromium fonts-open-sans" >&2
  exit 1
fi

# hc_tool prints the path of a copy of the render tool whose "highcontrast" theme is Teams' high contrast.
hc_tool() {
  local tmp designer real
  tmp=$(mktemp -d)
  real=$tools/designer/node_modules/adaptivecards-designer
  designer=$tmp/designer/node_modules/adaptivecards-designer
  mkdir -p "$designer/lib/hostConfigs" "$designer/dist/containers"
  cp "$tools/render-card.cjs" "$tmp/"
  ln -s "$tools/node_modules" "$tmp/node_modules"
  cp "$real/dist/containers/bot-framework.png" "$designer/dist/containers/"
  node -e '
    const fs = require("fs");
    const base = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const hc = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
    for (const name of Object.keys(base.containerStyles)) base.containerStyles[name] = hc.containerStyles[name] || hc.containerStyles.default;
    fs.writeFileSync(process.argv[3], JSON.stringify(base));
  ' "$real/lib/hostConfigs/microsoft-teams-dark.json" "$repo/cards/hostconfig/teams-high-contrast.json" \
    "$designer/lib/hostConfigs/microsoft-teams-highcontrast.json"
  { cat "$real/dist/containers/teams-container-dark.css"; cat <<'CSS'
body { background: #000000 !important; }
.teams-botNameAndTime { color: #FFFFFF; }
.teams-inner-frame { background-color: #000000; }
.teams-card { border: 2px solid #FFFFFF; }
.ac-pushButton { background-color: #000000 !important; color: #FFFF00 !important; border: 2px solid #FFFF00 !important; }
.ac-input, .ac-input input, .ac-input textarea, .ac-input select { background-color: #000000 !important; color: #FFFFFF !important; border: 1px solid #FFFFFF !important; }
CSS
  } > "$designer/dist/containers/teams-container-highcontrast.css"
  echo "$tmp"
}

out=$repo/docs/cards
hc=""
if [ $contrast -eq 1 ]; then hc=$(hc_tool); trap 'rm -rf "$hc"' EXIT; fi
for f in "${files[@]}"; do
  name=$(basename "$f" .json)
  sub=""
  [ "$(basename "$(dirname "$f")")" != de ] || sub=de/
  mkdir -p "$out/$sub"
  [ $light -eq 0 ] || node "$tools/render-card.cjs" "$f" "$out/$sub$name.png" --theme light >/dev/null
  if [ $dark -eq 1 ]; then
    mkdir -p "$out/dark/$sub"
    node "$tools/render-card.cjs" "$f" "$out/dark/$sub$name.png" --theme dark >/dev/null
  fi
  if [ $contrast -eq 1 ]; then
    mkdir -p "$out/high-contrast/$sub"
    node "$hc/render-card.cjs" "$f" "$out/high-contrast/$sub$name.png" --theme highcontrast >/dev/null
  fi
  echo "rendered $sub$name"
done
