#!/usr/bin/env bash
# Renders a demandsim report in a real headless browser (Debian's chromium)
# and saves screenshots, to look at what users see.
#
# Usage: scripts/screenshot-report.sh [REPORT_DIR] [OUT_DIR]
#   REPORT_DIR  a folder with report.html [default: builds one with
#               `demandsim reproduce --out target/report`]
#   OUT_DIR     where the PNGs go [default: REPORT_DIR]
# Installs chromium with apt-get when it is missing (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
report=${1:-}
if [ -z "$report" ]; then
  report=target/report
  cargo run --release --quiet -- -q reproduce --out "$report" >/dev/null
fi
out=${2:-$report}
mkdir -p "$out"
page="file://$(realpath "$report")/report.html"
# A laptop screen (1366 px wide): the top of the page, and the whole page
# (tall) to check every table and plot.
for spec in "top:1366,900" "full:1366,9000"; do
  name=${spec%%:*}
  size=${spec#*:}
  chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size="$size" --screenshot="$out/screenshot-$name.png" "$page" 2>/dev/null
  echo "$out/screenshot-$name.png"
done
# The page's height as a reader first sees it (every <details> closed): a
# copy of the page beside it that writes its own scrollHeight into the
# DOM, which Chromium prints.
probe="$(dirname "$(realpath "$report")/report.html")/.height-probe.html"
trap 'rm -f "$probe"' EXIT
sed 's#</body>#<script>document.body.setAttribute("data-height", document.documentElement.scrollHeight)</script></body>#' \
  "$(realpath "$report")/report.html" > "$probe"
height=$(chromium --headless=new --no-sandbox --disable-gpu --window-size=1366,768 \
  --virtual-time-budget=5000 --dump-dom "file://$probe" 2>/dev/null |
  grep -o 'data-height="[0-9]*"' | head -1 | grep -o '[0-9]*' || true)
[ -n "$height" ] && echo "page height at 1366 px: $height px ($(( (height + 767) / 768 )) screens of 768 px)"
