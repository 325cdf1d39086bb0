-- Mail to applicants: rows the notifier writes from events (in the transaction that moves its
-- checkpoint, so a crash neither loses a mail nor decides it twice) and the sender delivers.
-- A row holds ids and facts that are not personal (the visit's title, a term's dates, a
-- position on the waiting list), never an address or a name: the sender reads those from
-- personal_data when it sends, so a person erased meanwhile gets nothing more.
CREATE TABLE mail_outbox (
    -- Also the mail's Message-ID: a resend of the same row is recognisable.
    mail_id        uuid PRIMARY KEY,
    organizer      text        NOT NULL,
    kind           text        NOT NULL,
    application_id uuid        NOT NULL,
    visit_id       uuid        NOT NULL,
    term_id        uuid        NOT NULL,
    facts          jsonb       NOT NULL DEFAULT '{}',
    -- The event that caused it (its global position).
    cause_position bigint      NOT NULL,
    status         text        NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
    -- When it may go (a reminder's day; the next attempt after a failure).
    due_at         timestamptz NOT NULL,
    attempts       integer     NOT NULL DEFAULT 0,
    last_error     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz,
    UNIQUE (application_id, kind, cause_position)
);
CREATE INDEX mail_outbox_due ON mail_outbox (due_at) WHERE status = 'pending';
CREATE INDEX mail_outbox_by_organizer ON mail_outbox (organizer, created_at);
CREATE INDEX mail_outbox_by_application ON mail_outbox (application_id);
