-- What the collection-outcome analysis (analysis/outcomes) needs beside its table (050): the distance
-- rule as one SQL function, the indexes its set-based statements probe, and what some columns hold.

-- Great-circle distance in metres between two WGS 84 points (haversine, mean Earth radius). A plain SQL
-- function, so the planner inlines it. Lifts farther than 150 m from a property do not count as its
-- collection (analysis/outcomes/decide.ts says why).
CREATE FUNCTION kerbside_distance_m(lat1 double precision, lon1 double precision, lat2 double precision, lon2 double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 2 * 6371008.8 * asin(sqrt(power(sin(radians(lat2 - lat1) / 2), 2)
         + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)))
$$;

-- A household's collections of a stream by due date: the next collection after a given one (the end of
-- the time a late lift still belongs to the earlier one), and the first-contact check's lookups.
CREATE INDEX scheduled_collections_uprn_stream_due_idx ON scheduled_collections (uprn, stream, due_date) WHERE NOT cancelled;

-- The hourly re-decision of recent days only looks at outcomes late evidence can still change.
CREATE INDEX collection_outcomes_unsettled_idx ON collection_outcomes (due_date) WHERE outcome <> 'collected';
-- Open reports are closed when their collection is put right: outcomes by their first report.
CREATE INDEX collection_outcomes_first_report_idx ON collection_outcomes (first_report_id) WHERE first_report_id IS NOT NULL;

COMMENT ON COLUMN collection_outcomes.lift_ts IS
  'The lift event that decided the outcome: the first lift on the due day (collected), the last crew exception logged on it (crew_exception), or the first lift after it (collected_late, rectified, rectified_late). NULL for pending and missed.';
COMMENT ON COLUMN collection_outcomes.lift_distance_m IS 'Metres from the property to where the deciding event was recorded (at most 150 for it to count).';
COMMENT ON COLUMN collection_outcomes.missed_at IS
  'When the miss was established: the end of the round day (the round''s vehicle idle 30 minutes after the later of its planned end and its last lift, at the latest midnight), or the first valid report when that came earlier.';
COMMENT ON COLUMN collection_outcomes.rectify_deadline IS
  'The first valid report''s expected_datetime: contract.rectify_working_days working days after the report, 17:00 UK time.';
COMMENT ON COLUMN collection_outcomes.evidence IS
  'What decided it: {rule, dayStart, dayEnd, overAt, maxDistanceM, events: [{ts, deviceId, seq, vehicleId, outcome, weightKg, distanceM, onDueDay, accepted}], report: {id, at, deadline} | null}.';
COMMENT ON COLUMN collection_outcomes.revision IS 'Starts at 1; goes up each time the decision changes (outcome, exception, deciding event, report, deadline, rectification), not when only the evidence list does.';
