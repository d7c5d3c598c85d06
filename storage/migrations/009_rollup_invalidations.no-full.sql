-- Hours of the roll-up that late readings have made stale (the own-roll-up tiers' equivalent of
-- TimescaleDB's continuous-aggregate invalidation log). Ingest records them; the roll-up job
-- re-rolls them and clears them.
CREATE TABLE rollup_invalidations (
  name    text NOT NULL,
  bucket  timestamptz NOT NULL,
  PRIMARY KEY (name, bucket)
);
