-- The ward leaderboard (GET /api/v1/rewards/leaderboard) gives points and kilograms per registered
-- household of each ward. Counting the wards' households per request grew with the city (37 ms of
-- 45 at 210,000 households), so each ward's number of households is kept here, by statement-level
-- triggers on households for every writer (the registry import, direct SQL).
CREATE TABLE ward_households (
  ward       text PRIMARY KEY,
  households integer NOT NULL CHECK (households >= 0)
);

-- Adds each ward's change, in ward order (two writers lock the wards' rows in the same order). A ward
-- whose last household leaves keeps a row at 0; readers skip it.
CREATE FUNCTION ward_household_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM ward_households;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO ward_households AS w (ward, households)
      SELECT ward, count(*) FROM wh_new WHERE ward IS NOT NULL GROUP BY ward ORDER BY ward
      ON CONFLICT (ward) DO UPDATE SET households = w.households + excluded.households;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE ward_households w SET households = w.households - d.n
      FROM (SELECT ward, count(*) AS n FROM wh_old WHERE ward IS NOT NULL GROUP BY ward) d
     WHERE w.ward = d.ward;
  ELSE
    -- Only a household that changes ward moves a count: the wards it leaves first, then those it
    -- joins (an insert's proposed row must pass the CHECK before it meets the conflict).
    UPDATE ward_households w SET households = w.households - d.n
      FROM (SELECT o.ward, count(*) AS n FROM wh_new n JOIN wh_old o USING (uprn)
             WHERE n.ward IS DISTINCT FROM o.ward AND o.ward IS NOT NULL GROUP BY o.ward) d
     WHERE w.ward = d.ward;
    INSERT INTO ward_households AS w (ward, households)
      SELECT n.ward, count(*) FROM wh_new n JOIN wh_old o USING (uprn)
       WHERE n.ward IS DISTINCT FROM o.ward AND n.ward IS NOT NULL GROUP BY n.ward ORDER BY n.ward
      ON CONFLICT (ward) DO UPDATE SET households = w.households + excluded.households;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER ward_household_count_insert AFTER INSERT ON households REFERENCING NEW TABLE AS wh_new FOR EACH STATEMENT EXECUTE FUNCTION ward_household_count();
CREATE TRIGGER ward_household_count_update AFTER UPDATE ON households REFERENCING OLD TABLE AS wh_old NEW TABLE AS wh_new FOR EACH STATEMENT EXECUTE FUNCTION ward_household_count();
CREATE TRIGGER ward_household_count_delete AFTER DELETE ON households REFERENCING OLD TABLE AS wh_old FOR EACH STATEMENT EXECUTE FUNCTION ward_household_count();
CREATE TRIGGER ward_household_count_truncate AFTER TRUNCATE ON households FOR EACH STATEMENT EXECUTE FUNCTION ward_household_count();

INSERT INTO ward_households (ward, households)
  SELECT ward, count(*) FROM households WHERE ward IS NOT NULL GROUP BY ward;
