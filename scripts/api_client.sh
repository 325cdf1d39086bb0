#!/usr/bin/env bash
# The API as a program sees it: a fresh database, the service on a free port, then
#  1. the document it serves (/api/v1/openapi.json) validated as OpenAPI 3.1
#     (openapi-spec-validator);
#  2. a Python client generated from it with openapi-python-client, which must print no
#     warning and drop no operation (every operationId of the document becomes a function);
#  3. a whole recruitment run through that client alone (scripts/api_client/recruitment.py):
#     announce, preference list, term, open, submissions (one refused, read as a typed
#     problem), the provisional roster with min_position, close, a seat released and the
#     promotion, the applicants' own status, the audit history and the verification.
# Exits non-zero on the first disagreement.
#
#   scripts/api_client.sh
#
# Needs PostgreSQL (KOORDYNATOR_CLIENT_DATABASE_SERVER, default postgres://postgres@127.0.0.1:5432)
# and Python 3 with pip; the Python packages (pinned in scripts/api_client/requirements.txt)
# are installed from PyPI into the target directory once.
#
# Why openapi-python-client: it is the most used generator of typed Python clients for
# OpenAPI 3.1 (attrs models, httpx), refuses what it cannot model with a warning instead of
# guessing, and is a pip install away (no JVM as for openapi-generator) — Python is what the
# regional portals' and evaluators' scripts are written in.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib.sh
TARGET="$(target_dir)"
SERVER="${KOORDYNATOR_CLIENT_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}"
DB="kdn_client_$(date +%s)_$$"
export DATABASE_URL="$SERVER/$DB"

VENV="$TARGET"/api-client-venv
python_env "$VENV" scripts/api_client/requirements.txt
export PATH="$VENV/bin:$PATH"

BIN="$(koordynator_binary)"
PORT="$(free_port)"
LOG="$TARGET/api-client-$DB.log"
WORK="$TARGET/api-client"
trap stop_service_and_drop_database EXIT
start_service "$BIN" "$PORT" "$LOG" --submission-rate-limit 0
BASE="http://127.0.0.1:$PORT"

rm -rf "$WORK"
mkdir -p "$WORK"
curl -fsS "$BASE/api/v1/openapi.json" -o "$WORK/openapi.json"

# 1. A valid OpenAPI 3.1 document.
python - "$WORK/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import OpenAPIV31SpecValidator
doc = json.load(open(sys.argv[1]))
errors = list(OpenAPIV31SpecValidator(doc).iter_errors())
for e in errors[:20]:
    print(f"openapi: {e.message}", file=sys.stderr)
if errors:
    sys.exit(f"api_client: the served document is not valid OpenAPI 3.1 ({len(errors)} errors)")
print(f"api_client: the served document is valid OpenAPI {doc['openapi']}")
PY

# 2. A client generated without a warning, with a function for every operation.
(cd "$WORK" && openapi-python-client generate --path openapi.json --meta none \
    --output-path koordynator_client --config "$OLDPWD/scripts/api_client/generator.yaml") \
    >"$WORK/generate.log" 2>&1 || { cat "$WORK/generate.log"; exit 1; }
if grep -E "WARNING|Unsupported|will not be generated|will be omitted|Cannot" "$WORK/generate.log"; then
    echo "api_client: the generator warned (above)" >&2
    exit 1
fi
python - "$WORK/openapi.json" "$WORK/koordynator_client" <<'PY'
import json, pathlib, sys
doc = json.load(open(sys.argv[1]))
ids = {op["operationId"] for item in doc["paths"].values() for m, op in item.items()
       if m in ("get", "post", "put", "delete", "patch")}
generated = {p.stem for p in pathlib.Path(sys.argv[2], "api").rglob("*.py") if p.stem != "__init__"}
missing = sorted(ids - generated)
if missing:
    sys.exit(f"api_client: operations without a generated function: {missing}")
print(f"api_client: {len(ids)} operations generated")
PY

# 3. A recruitment through the generated client alone.
COORDINATOR="$("$BIN" token issue --role coordinator --organizer rops-torun --name "client check")"
EVALUATOR="$("$BIN" token issue --role evaluator --organizer rops-torun --name "client check")"
PYTHONPATH="$WORK" KOORDYNATOR_URL="$BASE" KOORDYNATOR_COORDINATOR="$COORDINATOR" \
    KOORDYNATOR_EVALUATOR="$EVALUATOR" python scripts/api_client/recruitment.py
