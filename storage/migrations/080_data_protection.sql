-- Data protection (storage/privacy, docs/data-protection.md).
--
--   erasure_records  one row per erasure on request: who had Kerbside erase a household's personal
--                    data, when, under which case reference, and how many items of each category went
--                    (e.g. {"reportContacts": 2, "crmReference": 1}). Never the erased content. Kept
--                    without a time limit: it is the council's proof that the request was honoured, and
--                    the list of erasures to apply again after restoring an older backup.
CREATE TABLE erasure_records (
  erasure_id   bigserial PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  uprn         bigint NOT NULL,
  actor        text NOT NULL,          -- api key id (or 'bootstrap'), dashboard user, or 'cli'
  actor_name   text NOT NULL,
  role         text NOT NULL,
  request_ref  text CHECK (length(request_ref) <= 64),
  erased       jsonb NOT NULL
);
CREATE INDEX erasure_records_uprn_idx ON erasure_records (uprn, at DESC);

-- Retention deletes reporters' contact details by the time their report was made
-- (missed_reports_requested_idx) and audit entries by time (audit_log_at_idx); erasure and the
-- subject-access export find a household's reports, readings and lifts by UPRN (existing indexes).
-- An erasure may also name the requester's own email: reports they made about other properties.
CREATE INDEX report_contacts_email_idx ON report_contacts (lower(email)) WHERE email IS NOT NULL;
