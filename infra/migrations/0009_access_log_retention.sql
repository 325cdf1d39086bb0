-- The access log names tokens and what they read: personal data of the staff, kept for a
-- retention period and no longer. Rows stay unchangeable; only the retention purge may remove
-- rows, only rows older than the cutoff it declares, and only in its own transaction
-- (`koordynator audit purge-access-log`, which records the purge itself in the log).
CREATE FUNCTION audit_access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz := nullif(current_setting('koordynator.access_log_cutoff', true), '')::timestamptz;
BEGIN
    IF TG_OP = 'DELETE' AND cutoff IS NOT NULL AND OLD.at < cutoff THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER audit_access_log_no_update_or_delete ON audit_access_log;
CREATE TRIGGER audit_access_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_access_log
    FOR EACH ROW EXECUTE FUNCTION audit_access_log_refuse_change();
