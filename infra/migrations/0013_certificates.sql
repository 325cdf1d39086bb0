-- Certificates of participation (zaświadczenia): the code printed on each and the attendance
-- event it was issued on. Not a read model: a code once handed out must keep answering, so
-- no rebuild may drop it. Ids only, no personal data: after the person's data is erased the
-- certificate still verifies, without a name.
CREATE TABLE certificates (
    -- 16 characters of Crockford's base32 (80 random bits), stored without the dashes it is
    -- printed with.
    code           text        PRIMARY KEY CHECK (code ~ '^[0-9A-HJKMNP-TV-Z]{16}$'),
    visit_id       uuid        NOT NULL,
    term_id        uuid        NOT NULL,
    application_id uuid        NOT NULL,
    -- The newest AttendanceRecorded of the application when the certificate was issued: its
    -- place in the visit's stream, its global position and its hash in the chain.
    event_sequence bigint      NOT NULL,
    event_position bigint      NOT NULL,
    event_hash     bytea       CHECK (event_hash IS NULL OR length(event_hash) = 32),
    -- The days present it certifies, as recorded by then.
    days_present   date[]      NOT NULL CHECK (cardinality(days_present) >= 1),
    issued_at      timestamptz NOT NULL DEFAULT now(),
    -- One code per application and attendance record: printing it again gives the same code.
    UNIQUE (application_id, event_sequence)
);

-- Printed codes never change or disappear.
CREATE TRIGGER certificates_no_update_or_delete
    BEFORE UPDATE OR DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
