# Shared by the scripts: where Cargo puts things, whatever CARGO_TARGET_DIR or a Cargo
# config says (a shared build folder is common), instead of a fixed `target/` path; Python
# environments of pinned requirements; the service on a free port of a fresh database.

# Cargo's target directory for this workspace.
target_dir() {
    cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

# Builds the `koordynator` binary (debug) and prints the path Cargo wrote it to.
koordynator_binary() {
    cargo build --quiet -p service --bin koordynator --message-format=json-render-diagnostics |
        python3 -c '
import json, sys
path = None
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["name"] == "koordynator":
        path = msg["executable"]
if path is None:
    sys.exit("cargo build printed no koordynator executable")
print(path)'
}

# `python_env DIR REQUIREMENTS`: a virtual environment in DIR holding exactly the pinned
# REQUIREMENTS, made again when the requirements file changed (network only then).
python_env() {
    local dir="$1" requirements="$2"
    local stamp
    stamp="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [ "$(cat "$dir/.requirements" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$dir"
        python3 -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        echo "$stamp" >"$dir/.requirements"
    fi
}

# A TCP port nobody listens on now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# `start_service BIN PORT LOG [SERVE FLAGS…]`: `serve` in the background (its pid in
# SERVICE_PID), waiting until `/health` answers; DATABASE_URL names its database.
start_service() {
    local bin="$1" port="$2" log="$3"
    shift 3
    "$bin" serve --bind "127.0.0.1:$port" "$@" >>"$log" 2>&1 &
    SERVICE_PID=$!
    for _ in $(seq 1 150); do
        curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
        kill -0 "$SERVICE_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "the service did not start; its log ($log):" >&2
    tail -n 30 "$log" >&2
    return 1
}

# Stops the service started by start_service and drops the database DATABASE_URL names.
stop_service_and_drop_database() {
    if [ -n "${SERVICE_PID:-}" ]; then
        kill "$SERVICE_PID" 2>/dev/null || true
        wait "$SERVICE_PID" 2>/dev/null || true
    fi
    psql "${DATABASE_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS ${DATABASE_URL##*/} WITH (FORCE)" >/dev/null 2>&1 || true
}
