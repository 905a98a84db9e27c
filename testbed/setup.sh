#!/usr/bin/env bash
# Installs everything the testbed needs on a fresh Debian machine: PostgreSQL,
# Redis, Prometheus and nginx (the containers' balancer) from Debian, the Python side (Django, DRF, Celery, Locust,
# gunicorn, prometheus-client) into testbed/.venv from PyPI. Idempotent; run as root or with sudo available.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v prometheus >/dev/null || need+=(prometheus)
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || need+=(nginx)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v taskset >/dev/null || need+=(util-linux)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
if ((${#need[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "installing from Debian: ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
    # The testbed starts its own servers on its own ports; Debian's default
    # instances are not used (and stopped where systemd runs them).
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        $sudo systemctl disable --now prometheus prometheus-node-exporter nginx 2>/dev/null || true
    fi
fi
# Debian's nginx (port 80) is started by its package where there is no
# systemd too; the testbed runs its own (containers.py), so stop that one.
if [[ -f /run/nginx.pid ]] && [[ -x /usr/sbin/nginx ]]; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo /usr/sbin/nginx -s quit 2>/dev/null || true
fi

if [[ ! -x "$here/.venv/bin/python" ]]; then
    python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install -q --upgrade pip
"$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
# Versions from the package metadata: importing locust here would patch the
# interpreter with gevent for nothing.
"$here/.venv/bin/python" -c 'from importlib.metadata import version as v; print("testbed ready:", ", ".join(p + " " + v(p) for p in ("Django", "djangorestframework", "celery", "locust", "psycopg", "gunicorn", "prometheus-client")))'
