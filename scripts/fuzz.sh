#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with Schemathesis: a fresh database, the
# service on a free port, an admin token, and every operation called with generated input.
# Passes when no answer is a 5xx (`not_a_server_error`): API.md says nothing a client sends
# may cause a 500. Not part of CI (minutes long); run it after changing routes.
#
#   scripts/fuzz.sh [MAX_EXAMPLES_PER_OPERATION]   (default 30)
#
# Needs PostgreSQL (KOORDYNATOR_FUZZ_DATABASE_SERVER, default postgres://postgres@127.0.0.1:5432)
# and Python 3 with pip; Schemathesis is installed from PyPI into the target directory (fuzz-venv) once.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib.sh
TARGET="$(target_dir)"
MAX_EXAMPLES="${1:-30}"
SERVER="${KOORDYNATOR_FUZZ_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}"
DB="kdn_fuzz_$(date +%s)_$$"
export DATABASE_URL="$SERVER/$DB"

VENV="$TARGET"/fuzz-venv
if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet schemathesis
fi

BIN="$(koordynator_binary)"

# A free port: the kernel picks one, Python tells which.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

LOG="$TARGET/fuzz-$DB.log"
"$BIN" serve --bind "127.0.0.1:$PORT" --submission-rate-limit 0 >"$LOG" 2>&1 &
SERVER_PID=$!
cleanup() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/health" >/dev/null

TOKEN="$("$BIN" token issue --role admin --name fuzz)"

set +e
"$VENV/bin/schemathesis" --no-color run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error \
    --max-examples "$MAX_EXAMPLES" \
    --workers 2 \
    --report junit --report-dir "$TARGET/fuzz-report"
STATUS=$?
set -e

echo "fuzz: schemathesis exit $STATUS; service log $LOG; report $TARGET/fuzz-report/"
if grep -q "panicked" "$LOG"; then
    echo "fuzz: the service panicked:"
    grep -n "panicked" "$LOG" | head -20
    STATUS=1
fi
exit "$STATUS"
