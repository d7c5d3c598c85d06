-- Indexes for the why-missed answer (analysis/why-missed), beside its roll-up (131_why_missed_rollup,
-- already applied where this is added, hence a file of its own).

-- A cell's name (the street most of its rows are on) is worked out for the cells shown only: their
-- households found by cell. The expressions are breakdowns.ts's (rollup.ts CELL_Y_SQL, CELL_X_SQL)
-- for the roll-up's 250 m grid, written out identically so that the planner matches them.
CREATE INDEX households_cell_250_idx ON households (
  (floor(lat * 111320 / 250::float8)::int),
  (floor(lon * 111320 * cos(radians((floor(lat * 111320 / 250::float8)::int + 0.5) * 250::float8 / 111320)) / 250::float8)::int)
);

-- The households with repeat misses read every miss of the contract over the range and the repeat
-- window before it (a city's 16 weeks: thousands of misses on as many heap pages): read from the
-- index alone instead. Misses are a few in a thousand outcomes, so the index is small.
CREATE INDEX collection_outcomes_misses_idx ON collection_outcomes (contract_id, due_date)
  INCLUDE (uprn, stream, reported_at, collection_id)
  WHERE outcome IN ('missed', 'rectified', 'rectified_late');
