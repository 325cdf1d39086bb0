-- The event store. Columns up to `metadata` are the ones postgres-es 0.5 reads and writes
-- (its INSERT names them, so the extra columns below fill from their defaults).
CREATE TABLE events (
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    sequence       bigint NOT NULL CHECK (sequence >= 0),
    event_type     text   NOT NULL,
    event_version  text   NOT NULL,
    payload        jsonb  NOT NULL,
    metadata       jsonb  NOT NULL,
    -- Global position: unique and increasing in INSERT order, but visible only at COMMIT,
    -- so readers must not use it alone as a cursor (see infra::feed).
    position       bigint GENERATED ALWAYS AS IDENTITY,
    -- The writing transaction: readers take only rows whose transaction is older than
    -- every transaction still open, which gives commit order without gaps.
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence),
    UNIQUE (position)
);

CREATE INDEX events_commit_order ON events (tx_id, position);
CREATE INDEX events_by_organizer ON events ((metadata ->> 'organizer'), tx_id, position);

-- Events are facts: the database itself refuses to change or remove them.
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % on events is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Wake the projection runner at commit (NOTIFY is delivered only when the writer commits).
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('koordynator_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify_on_insert
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- Where each projection stands in commit order, written in the same transaction as its rows.
CREATE TABLE projection_checkpoints (
    name           text PRIMARY KEY,
    schema_version integer     NOT NULL,
    last_tx_id     xid8        NOT NULL DEFAULT '0',
    last_position  bigint      NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
