-- API tokens. Only a SHA-256 of each token is kept: a leaked table grants nothing.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    token_hash   bytea       NOT NULL UNIQUE,
    role         text        NOT NULL CHECK (role IN ('admin', 'coordinator', 'evaluator')),
    organizer    text,
    name         text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK (role <> 'coordinator' OR organizer IS NOT NULL)
);

-- Idempotency-Key: the first answer to a POST, replayed for a repeat with the same key.
CREATE TABLE idempotency_keys (
    scope         text        NOT NULL,
    key           text        NOT NULL,
    request_hash  bytea       NOT NULL,
    status        integer,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (scope, key)
);
