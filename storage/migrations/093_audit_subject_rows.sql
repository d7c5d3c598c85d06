-- Audit entries for every read of personal data, not only a household's record (api/access-model.ts):
-- what the read was about when it was not one household (a round, a device, a registry entity, a
-- search) and how many rows of personal data it gave out (bulk exports, lists).
ALTER TABLE audit_log ADD COLUMN subject text;
ALTER TABLE audit_log ADD COLUMN row_count integer;
