#!/usr/bin/env bash
# Browser check of the dashboard: a fresh database, `koordynator demo`, the service on a free
# port, then headless Chromium signs in through the page with the demo's token, opens each
# view, checks its text for the demo's content and saves a screenshot to docs/screenshots/.
# Exits non-zero when a view does not show what the demo loaded.
#
#   scripts/screenshots.sh
#
# Needs PostgreSQL (KOORDYNATOR_SCREENSHOTS_DATABASE_SERVER, default
# postgres://postgres@127.0.0.1:5432), Debian's `chromium` and `chromium-driver` (installed
# with apt-get when missing: network once) and Python 3; Selenium is installed from PyPI
# (pinned in scripts/screenshots-requirements.txt) into the target directory (screenshots-venv) once.
#
# Why Selenium + Debian's chromium-driver: the driver comes from the same Debian source
# package as the browser, so their versions always match (no driver download at run time),
# and WebDriver is a W3C standard the Python bindings follow closely.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib.sh
TARGET="$(target_dir)"
SERVER="${KOORDYNATOR_SCREENSHOTS_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}"
DB="kdn_screenshots_$(date +%s)_$$"
export DATABASE_URL="$SERVER/$DB"
OUT=docs/screenshots

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver
fi

VENV="$TARGET"/screenshots-venv
python_env "$VENV" scripts/screenshots-requirements.txt

BIN="$(koordynator_binary)"
PORT="$(free_port)"
LOG="$TARGET/screenshots-$DB.log"
trap stop_service_and_drop_database EXIT

TOKEN="$("$BIN" demo 2>>"$LOG")"
start_service "$BIN" "$PORT" "$LOG"

mkdir -p "$OUT"
KOORDYNATOR_TOKEN="$TOKEN" "$VENV/bin/python" scripts/screenshots.py "http://127.0.0.1:$PORT" "$OUT"
