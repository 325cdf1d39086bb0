-- Erasure of personal data (RODO art. 17) and its expiry after the retention period.
--
-- Erasing deletes the rows that name or contact a person (personal_data, the subject's
-- e-mail hash, the applicant key, stored idempotent answers); what remains is this record,
-- which names nobody: an application id and a subject id (both already in the events), when,
-- why and by which actor (a token id, never a name). It lets the service say "erased" rather
-- than "never held", and shows an auditor that the erasure was carried out.
CREATE TABLE personal_data_erasures (
    application_id uuid PRIMARY KEY,
    subject_id     uuid        NOT NULL,
    reason         text        NOT NULL CHECK (reason IN ('request', 'retention')),
    actor          text        NOT NULL,
    erased_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX personal_data_erasures_by_subject ON personal_data_erasures (subject_id);

-- Officers' names erased on request; the office and its history stay in the events.
CREATE TABLE officer_erasures (
    officer_id uuid PRIMARY KEY,
    network_id uuid        NOT NULL,
    actor      text        NOT NULL,
    erased_at  timestamptz NOT NULL DEFAULT now()
);
