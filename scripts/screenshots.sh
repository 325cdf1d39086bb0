#!/usr/bin/env bash
# Browser checks: a fresh database, `koordynator demo`, the service on a free port, then
# headless Chromium
#  - signs in to the dashboard with the demo's token, opens each view, checks its text for
#    the demo's content and saves a screenshot to docs/screenshots/;
#  - walks the public pages with the keyboard alone, with and without JavaScript: applies to
#    the demo's open term, sends the empty form, corrects it, follows and withdraws the
#    application; axe-core (from the npm registry, pinned in scripts/pages/package-lock.json)
#    must find no WCAG 2.0/2.1 A or AA violation on any page or state (scripts/pages.py).
# Exits non-zero when a view does not show what the demo loaded or a page check fails.
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

# axe-core, installed from the lock file into the target directory once.
AXE_DIR="$TARGET/page-checks"
LOCK_SUM="$(sha256sum scripts/pages/package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$AXE_DIR/.lock" 2>/dev/null)" != "$LOCK_SUM" ]; then
    rm -rf "$AXE_DIR"
    mkdir -p "$AXE_DIR"
    cp scripts/pages/package.json scripts/pages/package-lock.json "$AXE_DIR"/
    (cd "$AXE_DIR" && npm ci --no-audit --no-fund --silent)
    echo "$LOCK_SUM" >"$AXE_DIR/.lock"
fi
# A console account of the demo's organizer (the password read from stdin, as `user add` wants).
export KOORDYNATOR_CONSOLE_EMAIL="anna.koordynatorka@rops-torun.example"
export KOORDYNATOR_CONSOLE_PASSWORD="haslo-do-sprawdzenia-2026"
printf '%s\n' "$KOORDYNATOR_CONSOLE_PASSWORD" | "$BIN" user add --email "$KOORDYNATOR_CONSOLE_EMAIL" \
    --role coordinator --organizer rops-torun --name "Anna Koordynatorka" --password-stdin 2>>"$LOG"
# An evaluator of every organizer, for the audit tools.
export KOORDYNATOR_EVALUATOR_EMAIL="ewa.ewaluatorka@ewaluacja.example"
printf '%s\n' "$KOORDYNATOR_CONSOLE_PASSWORD" | "$BIN" user add --email "$KOORDYNATOR_EVALUATOR_EMAIL" \
    --role evaluator --name "Ewa Ewaluatorka" --password-stdin 2>>"$LOG"
"$VENV/bin/python" scripts/pages.py "http://127.0.0.1:$PORT" "$OUT" "$AXE_DIR/node_modules/axe-core/axe.min.js"
