# Shared by the scripts: where Cargo puts things, whatever CARGO_TARGET_DIR or a Cargo
# config says (a shared build folder is common), instead of a fixed `target/` path.

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
