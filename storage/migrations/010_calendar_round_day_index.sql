-- The calendar generator compares, round by round, the collections it wants with those already
-- scheduled in its range (analysis/calendar/generate.ts). This index makes that a range scan of the
-- round's rows in the range, however much history the table holds.
CREATE INDEX scheduled_collections_round_day_idx ON scheduled_collections (round_id, scheduled_date);
