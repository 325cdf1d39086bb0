-- A reservation whose process died (or whose database went away) before it stored the
-- answer is taken over after a lease; before running the command again, the service looks
-- for events that already carry the key, so a command is never carried out twice.
CREATE INDEX events_idempotency_key
    ON events ((metadata ->> 'idempotency_key'))
    WHERE metadata ? 'idempotency_key';
