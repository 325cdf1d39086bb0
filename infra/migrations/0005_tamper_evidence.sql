-- Tamper evidence (see infra::chain and docs/audit.md).
--
-- Every event is bound to its predecessor in the same stream by a SHA-256 computed by the
-- service when it writes the event: `hash = sha256(canonical JSON of the event with
-- prev_hash)`. A chain per stream keeps appends concurrent (a single global chain would
-- serialise every write). Events written before this migration keep NULL and are reported
-- as unchained by the integrity check.
ALTER TABLE events
    ADD COLUMN prev_hash bytea CHECK (prev_hash IS NULL OR length(prev_hash) = 32),
    ADD COLUMN hash      bytea CHECK (hash IS NULL OR length(hash) = 32);

-- Seals bind all streams together: seal N covers every event of a transaction older than
-- `horizon` (the same commit-order horizon the projections read under), records the heads of
-- the streams that changed since seal N-1 and the running count of events, and chains to seal
-- N-1. Removing the newest event of a stream, which no successor would betray, breaks the
-- seal; handing a seal's hash to someone outside (a report to the managing authority) lets
-- them detect even a rewrite of the whole history.
CREATE TABLE event_seals (
    seal_no      bigint      PRIMARY KEY CHECK (seal_no >= 1),
    horizon      xid8        NOT NULL,
    events_total bigint      NOT NULL CHECK (events_total >= 0),
    -- [{"aggregate_type", "aggregate_id", "sequence", "hash"}] of streams changed since the previous seal
    heads        jsonb       NOT NULL,
    prev_seal    bytea       NOT NULL CHECK (length(prev_seal) = 32),
    seal_hash    bytea       NOT NULL UNIQUE CHECK (length(seal_hash) = 32),
    sealed_at    timestamptz NOT NULL
);

CREATE TRIGGER event_seals_no_update_or_delete
    BEFORE UPDATE OR DELETE ON event_seals
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER event_seals_no_truncate
    BEFORE TRUNCATE ON event_seals
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Who looked at what: every audit read (history, replays, verify, integrity, export) is
-- itself recorded. Kept out of the events table because reads are not domain facts, but
-- append-only all the same.
CREATE TABLE audit_access_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL,
    role        text        NOT NULL,
    organizer   text,
    action      text        NOT NULL,
    target      text        NOT NULL DEFAULT '',
    parameters  jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_access_log_by_actor ON audit_access_log (actor, at);

CREATE TRIGGER audit_access_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_access_log
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
