#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with Schemathesis: a fresh database, the
# service on a free port, an admin token, and every operation called with generated input,
# then chains of operations along the document's links (stateful phase). Passes when no
# check fails: no 5xx (API.md: nothing a client sends may cause a 500), every answer's
# status, content type, headers and body as the document declares, input the schema calls
# valid accepted. Not part of CI (minutes long); run it after changing routes.
#
#   scripts/fuzz.sh [MAX_EXAMPLES_PER_OPERATION]   (default 30)
#
# Needs PostgreSQL (KOORDYNATOR_FUZZ_DATABASE_SERVER, default postgres://postgres@127.0.0.1:5432)
# and Python 3 with pip; Schemathesis (pinned in scripts/fuzz/requirements.txt) is installed
# from PyPI into the target directory once. scripts/fuzz/hooks.py generates NIPs and REGONs
# with valid check digits; scripts/fuzz/schemathesis.toml fixes `min_position`, and
# scripts/fuzz/seed.py makes a visit, a programme and a network whose ids the operations
# taking them are given (otherwise they would only answer 404). The report is written to the target directory (fuzz-report).
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib.sh
TARGET="$(target_dir)"
MAX_EXAMPLES="${1:-30}"
SERVER="${KOORDYNATOR_FUZZ_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}"
DB="kdn_fuzz_$(date +%s)_$$"
export DATABASE_URL="$SERVER/$DB"

VENV="$TARGET"/fuzz-venv
python_env "$VENV" scripts/fuzz/requirements.txt

BIN="$(koordynator_binary)"
PORT="$(free_port)"
LOG="$TARGET/fuzz-$DB.log"
trap stop_service_and_drop_database EXIT
start_service "$BIN" "$PORT" "$LOG" --submission-rate-limit 0

TOKEN="$("$BIN" token issue --role admin --name fuzz)"
# One of everything the paths name, made through the API, and their ids in the config.
CONFIG="$TARGET/fuzz-schemathesis.toml"
python3 scripts/fuzz/seed.py "http://127.0.0.1:$PORT" "$TOKEN" scripts/fuzz/schemathesis.toml >"$CONFIG"

set +e
SCHEMATHESIS_HOOKS=hooks PYTHONPATH=scripts/fuzz "$VENV/bin/schemathesis" --no-color \
    --config-file "$CONFIG" run \
    "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks all \
    --max-examples "$MAX_EXAMPLES" \
    --workers 2 \
    --report junit,ndjson --report-dir "$TARGET/fuzz-report"
STATUS=$?
set -e

echo "fuzz: schemathesis exit $STATUS; service log $LOG; report $TARGET/fuzz-report/"
if grep -q "panicked" "$LOG"; then
    echo "fuzz: the service panicked:"
    grep -n "panicked" "$LOG" | head -20
    STATUS=1
fi
exit "$STATUS"
