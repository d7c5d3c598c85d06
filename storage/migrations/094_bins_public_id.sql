-- An opaque, stable id for each bin, for views shown outside Kerbside (the NGSI-LD WasteContainer
-- id): councils' bin ids often embed the UPRN (bin-100002240254-rec), which docs/data-protection.md
-- promises to leave out. Random rather than a hash of the bin id, which anyone who can list the
-- council's UPRNs (OS Open UPRN) could reverse. Kept across registry imports (they upsert bins).
ALTER TABLE bins ADD COLUMN public_id text;
UPDATE bins SET public_id = substr(md5(random()::text || clock_timestamp()::text || bin_id), 1, 20);
ALTER TABLE bins ALTER COLUMN public_id SET DEFAULT substr(md5(random()::text || clock_timestamp()::text), 1, 20);
ALTER TABLE bins ALTER COLUMN public_id SET NOT NULL;
CREATE UNIQUE INDEX bins_public_id_idx ON bins (public_id);
