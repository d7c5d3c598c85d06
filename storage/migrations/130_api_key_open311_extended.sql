-- Per API key: whether Open311 answers to it carry FixMyStreet's additional request attributes
-- (mySociety's additions to GeoReport v2: agency_sent_datetime, title, interface_used,
-- comment_count), which a strict GeoReport v2 client may not expect. Off unless set.
ALTER TABLE api_keys ADD COLUMN open311_extended boolean NOT NULL DEFAULT false;
