#!/usr/bin/env bash
# Renders a report in headless Chromium at a laptop's width (1366 px) and
# prints the page's height in pixels and in screens of 768 px, with every
# <details> closed (as a reader first sees it). Writes a screenshot of the
# first screen next to the report. Not run by CI.
#   bash scripts/screenshot.sh report/report.html [WIDTH]
# Installs Chromium from Debian when it is missing (needs root).
set -euo pipefail
page=$(realpath "${1:?usage: screenshot.sh REPORT.html [WIDTH]}")
width=${2:-1366}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "installing chromium from Debian..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
  browser=$(command -v chromium)
fi
shot="${page%.html}-first-screen.png"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size="$width,768" --screenshot="$shot" "file://$page" 2> /dev/null
# The height: a copy of the page (in the same folder, for its relative
# links) that writes its own scrollHeight into the DOM, which Chromium
# prints.
probe="$(dirname "$page")/.height-probe.html"
trap 'rm -f "$probe"' EXIT
sed 's#</body>#<script>document.body.setAttribute("data-height", document.documentElement.scrollHeight)</script></body>#' \
  "$page" > "$probe"
height=$("$browser" --headless --no-sandbox --disable-gpu --window-size="$width,768" \
  --virtual-time-budget=5000 --dump-dom "file://$probe" 2> /dev/null |
  grep -o 'data-height="[0-9]*"' | head -1 | grep -o '[0-9]*' || true)
echo "first screen: $shot"
if [ -n "$height" ]; then
  echo "page height at $width px: $height px ($(( (height + 767) / 768 )) screens of 768 px)"
else
  echo "page height: not reported (the page has no height probe)"
fi
