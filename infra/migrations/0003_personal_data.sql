-- Personal data lives here, never in events: events carry only subject and application ids,
-- so erasing these rows removes the person without rewriting history.

-- Secrets the service generates for itself on first start (the key of the e-mail hash).
CREATE TABLE service_secrets (
    name       text PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One subject per e-mail address, found through a keyed hash (HMAC-SHA-256), so duplicate
-- applications are detected without keeping a searchable plain address in an index.
CREATE TABLE personal_subjects (
    subject_id uuid PRIMARY KEY,
    email_hash bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What an applicant typed into one application form.
CREATE TABLE personal_data (
    application_id uuid PRIMARY KEY,
    subject_id     uuid        NOT NULL REFERENCES personal_subjects (subject_id) ON DELETE CASCADE,
    first_name     text        NOT NULL,
    last_name      text        NOT NULL,
    email          text        NOT NULL,
    phone          text,
    job_title      text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX personal_data_by_subject ON personal_data (subject_id);

-- The applicant's key to follow and withdraw their own application (hash only).
CREATE TABLE applicant_keys (
    application_id uuid PRIMARY KEY,
    visit_id       uuid        NOT NULL,
    key_hash       bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
