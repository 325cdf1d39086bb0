#!/usr/bin/env python3
"""Check a Koordynator audit export with nothing but Python's standard library.

    python3 scripts/check_export.py koordynator-audit.jsonl [--seal <hex published elsewhere>]

Re-computes every event's SHA-256 from its content and its predecessor's hash, checks that
each stream's sequence has no gap, and checks the trailer (count, digest, stream ends), so an
evaluator needs to trust neither the operator nor the Koordynator program. docs/audit.md
explains the format. Exit status 0: the file is intact; 1: it is not (the reason is printed).
"""
import hashlib
import json
import sys

GENESIS = "0" * 64


def canonical(value):
    # Sorted keys, no whitespace, non-ASCII kept as UTF-8: the text the hashes are made of.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(e):
    envelope = {k: e[k] for k in ("aggregate_type", "aggregate_id", "sequence", "event_type",
                                  "event_version", "payload", "metadata", "recorded_at",
                                  "prev_hash")}
    return hashlib.sha256(canonical(envelope).encode("utf-8")).hexdigest()


def main(path, published_seal=None):
    heads = {}
    digest = hashlib.sha256()
    count = 0
    trailer = None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if "export" in obj:
                if trailer is not None:
                    return f"line {n}: a second trailer"
                trailer = obj["export"]
                continue
            if trailer is not None:
                return f"line {n}: an event after the trailer"
            e = obj
            where = f"line {n} ({e['aggregate_type']} {e['aggregate_id']} #{e['sequence']})"
            if event_hash(e) != e["hash"]:
                return f"{where}: the content does not match its hash"
            key = (e["aggregate_type"], e["aggregate_id"])
            if key in heads:
                seq, h = heads[key]
                if e["sequence"] != seq + 1:
                    return f"{where}: jumps from sequence {seq}"
                if e["prev_hash"] != h:
                    return f"{where}: not chained to the previous event of its stream"
            elif e["sequence"] == 1 and e["prev_hash"] != GENESIS:
                return f"{where}: a stream's first event must follow 64 zeros"
            heads[key] = (e["sequence"], e["hash"])
            digest.update(bytes.fromhex(e["hash"]))
            count += 1
    if trailer is None:
        return f"no trailer after {count} events: the export was cut short"
    if trailer["events"] != count:
        return f"the trailer counts {trailer['events']} events, the file holds {count}"
    if trailer["digest"] != digest.hexdigest():
        return "the trailer's digest does not match the events"
    ends = {(s["aggregate_type"], s["aggregate_id"]): (s["last_sequence"], s["last_hash"])
            for s in trailer["streams"]}
    if ends != heads:
        return "the trailer's stream ends do not match the events"
    seal = trailer.get("seal") or {}
    if published_seal and seal.get("seal_hash") != published_seal:
        return f"the export was cut at seal {seal.get('seal_hash')}, not the published {published_seal}"
    print(f"intact: {count} events in {len(heads)} streams; digest {trailer['digest']}; "
          f"seal {seal.get('seal_no')} {seal.get('seal_hash')}")
    return None


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    published = None
    if "--seal" in args:
        i = args.index("--seal")
        published = args[i + 1]
        del args[i:i + 2]
    problem = main(args[0], published)
    if problem:
        print(f"NOT intact: {problem}", file=sys.stderr)
        sys.exit(1)
