-- People who sign in to the console with a password (PAGES.md "The console"). Roles and
-- organizers are those of API tokens. Only an Argon2id hash of the password is kept.
CREATE TABLE console_users (
    user_id       uuid PRIMARY KEY,
    -- Lower-cased: one account per address however it is typed.
    email         text        NOT NULL UNIQUE,
    name          text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'coordinator', 'evaluator')),
    organizer     text,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

-- Signed-in sessions. The browser holds a random secret; only its SHA-256 is kept, so
-- whoever reads this table cannot take a session over. A session ends after 30 minutes idle,
-- 12 hours after sign-in, at sign-out, or when its account is disabled.
CREATE TABLE console_sessions (
    session_hash bytea PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES console_users (user_id),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);

-- Failed sign-ins per address, for the lock: 5 within 15 minutes lock the account for 15
-- minutes, whatever the password.
CREATE TABLE console_sign_in_failures (
    email text        NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX console_sign_in_failures_by_email ON console_sign_in_failures (email, at);
