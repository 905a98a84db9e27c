#!/usr/bin/env bash
# Runs an experiment plan on the trading platform (see plans.py and README.md):
#   testbed/run.sh --plan quick [--out DIR] [--only RUN,RUN] [--service-cpus 0 --load-cpus 1]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [[ ! -x "$here/.venv/bin/python" ]]; then
    echo "the testbed is not installed: run testbed/setup.sh first" >&2
    exit 2
fi
exec "$here/.venv/bin/python" "$here/runner.py" "$@"
