-- The rounds list (GET /api/v1/rounds) gives each round's number of households. Counting every
-- round's stops per request grew with the city (500,000 stops at 210,000 households: 56 ms p99 for
-- one contract's 570 rounds), so the count is kept on the round. Statement-level triggers on
-- round_households keep it for every writer: the registry import's upserts and stale-stop removal, a
-- round deleted with its stops (ON DELETE CASCADE), a stop moved to another round, and direct SQL.
ALTER TABLE rounds ADD COLUMN household_count integer NOT NULL DEFAULT 0 CHECK (household_count >= 0);

CREATE FUNCTION round_household_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE rounds SET household_count = 0 WHERE household_count <> 0;
  ELSIF TG_OP = 'INSERT' THEN
    UPDATE rounds r SET household_count = r.household_count + d.n
      FROM (SELECT round_id, count(*)::int AS n FROM rh_new GROUP BY round_id) d
     WHERE r.round_id = d.round_id;
  ELSIF TG_OP = 'DELETE' THEN
    -- A round deleted with its stops is gone already: nothing to update for it.
    UPDATE rounds r SET household_count = r.household_count - d.n
      FROM (SELECT round_id, count(*)::int AS n FROM rh_old GROUP BY round_id) d
     WHERE r.round_id = d.round_id;
  ELSE
    -- Only a stop that changes round moves a count (a new position does not).
    UPDATE rounds r SET household_count = r.household_count + d.n
      FROM (SELECT round_id, sum(n)::int AS n
              FROM (SELECT round_id, 1 AS n FROM rh_new UNION ALL SELECT round_id, -1 FROM rh_old) x
             GROUP BY round_id HAVING sum(n) <> 0) d
     WHERE r.round_id = d.round_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER round_household_count_insert AFTER INSERT ON round_households REFERENCING NEW TABLE AS rh_new FOR EACH STATEMENT EXECUTE FUNCTION round_household_count();
CREATE TRIGGER round_household_count_update AFTER UPDATE ON round_households REFERENCING OLD TABLE AS rh_old NEW TABLE AS rh_new FOR EACH STATEMENT EXECUTE FUNCTION round_household_count();
CREATE TRIGGER round_household_count_delete AFTER DELETE ON round_households REFERENCING OLD TABLE AS rh_old FOR EACH STATEMENT EXECUTE FUNCTION round_household_count();
CREATE TRIGGER round_household_count_truncate AFTER TRUNCATE ON round_households FOR EACH STATEMENT EXECUTE FUNCTION round_household_count();

UPDATE rounds r SET household_count = c.n
  FROM (SELECT round_id, count(*)::int AS n FROM round_households GROUP BY round_id) c
 WHERE r.round_id = c.round_id;
