-- The hourly re-decision of earlier days looks only at outcomes later evidence can still change once
-- the day is behind: pending and missed (a return lift, a report). Crew exceptions and late or
-- rectified collections are settled like collected ones, so the partial index covers only the few.
DROP INDEX collection_outcomes_unsettled_idx;
CREATE INDEX collection_outcomes_unsettled_idx ON collection_outcomes (due_date) WHERE outcome IN ('pending', 'missed');
