-- The ward leaderboard (GET /api/v1/rewards/leaderboard, analysis/rewards/leaderboard.ts) sums each
-- month's ledger by the wards of the households posted to. Summing per request grew with the city
-- (about 960 ms at 210,000 households with a month posted), so the totals are kept here, as the
-- ledger is appended to, and the request reads one row per ward:
--
--   reward_household_months  per month and household with entries: the points posted (the sum of its
--                            entries), the kg of its latest recycled_weight entry (each one carries
--                            the month's whole kg) and the ward its totals are counted in.
--   reward_ward_months       per month and ward: households with entries, their points and kg.
--
-- Kept by statement-level triggers: on reward_ledger for appended entries (the posting job, a
-- re-post by `kerbside analyse`, direct SQL) and TRUNCATE (the ledger is append-only: no UPDATE or
-- DELETE reaches it); on households for a ward change, which moves the household's totals of every
-- month from its old ward to its new one, as the leaderboard counts a household in its ward of now.
-- A ward change takes the ledger's posting lock (lockKey('reward-ledger') in storage/database.ts,
-- 703623356) so that it never interleaves with a posting that read the household's old ward.
CREATE TABLE reward_household_months (
  period       date NOT NULL,
  uprn         bigint NOT NULL,
  ward         text,
  points       bigint NOT NULL,
  kg           numeric,
  kg_entry_id  bigint,
  PRIMARY KEY (period, uprn)
);
CREATE INDEX reward_household_months_uprn_idx ON reward_household_months (uprn);

CREATE TABLE reward_ward_months (
  period         date NOT NULL,
  ward           text NOT NULL,
  participating  integer NOT NULL CHECK (participating >= 0),
  points         bigint NOT NULL,
  kg             numeric NOT NULL,
  PRIMARY KEY (period, ward)
);

CREATE FUNCTION reward_totals_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM reward_ward_months;
    DELETE FROM reward_household_months;
    RETURN NULL;
  END IF;
  -- The wards' changes first, from the households' totals before this statement: a household new to
  -- the month joins its ward's count; its kg changes when an entry newer than its kept one carries kg.
  INSERT INTO reward_ward_months AS w (period, ward, participating, points, kg)
    SELECT d.period, coalesce(o.ward, h.ward), count(*) FILTER (WHERE o.uprn IS NULL), sum(d.points),
           coalesce(sum(CASE WHEN d.kg_entry_id > coalesce(o.kg_entry_id, 0) THEN coalesce(d.kg, 0) - coalesce(o.kg, 0) END), 0)
      FROM (SELECT x.period, x.uprn, x.points, x.kg_entry_id, (k.evidence->>'kg')::numeric AS kg
              FROM (SELECT period, uprn, sum(points) AS points, max(entry_id) FILTER (WHERE rule = 'recycled_weight') AS kg_entry_id
                      FROM rl_new GROUP BY period, uprn) x
              LEFT JOIN rl_new k ON k.entry_id = x.kg_entry_id) d
      JOIN households h ON h.uprn = d.uprn
      LEFT JOIN reward_household_months o ON o.period = d.period AND o.uprn = d.uprn
     WHERE coalesce(o.ward, h.ward) IS NOT NULL
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (period, ward) DO UPDATE
      SET participating = w.participating + excluded.participating, points = w.points + excluded.points, kg = w.kg + excluded.kg;
  INSERT INTO reward_household_months AS r (period, uprn, ward, points, kg, kg_entry_id)
    SELECT x.period, x.uprn, h.ward, x.points, (k.evidence->>'kg')::numeric, x.kg_entry_id
      FROM (SELECT period, uprn, sum(points) AS points, max(entry_id) FILTER (WHERE rule = 'recycled_weight') AS kg_entry_id
              FROM rl_new GROUP BY period, uprn) x
      JOIN households h ON h.uprn = x.uprn
      LEFT JOIN rl_new k ON k.entry_id = x.kg_entry_id
     ORDER BY 1, 2
    ON CONFLICT (period, uprn) DO UPDATE
      SET points = r.points + excluded.points,
          kg = CASE WHEN excluded.kg_entry_id > coalesce(r.kg_entry_id, 0) THEN excluded.kg ELSE r.kg END,
          kg_entry_id = greatest(r.kg_entry_id, excluded.kg_entry_id);
  RETURN NULL;
END $$;
CREATE TRIGGER reward_totals_insert AFTER INSERT ON reward_ledger REFERENCING NEW TABLE AS rl_new FOR EACH STATEMENT EXECUTE FUNCTION reward_totals_append();
CREATE TRIGGER reward_totals_truncate AFTER TRUNCATE ON reward_ledger FOR EACH STATEMENT EXECUTE FUNCTION reward_totals_append();

-- A household that changes ward takes its months' totals along: out of the ward they are counted in,
-- into its new one (none when its ward is cleared).
CREATE FUNCTION reward_totals_ward_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM rh_new n JOIN rh_old o USING (uprn) WHERE n.ward IS DISTINCT FROM o.ward) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(703623356);
  UPDATE reward_ward_months w
     SET participating = w.participating - m.n, points = w.points - m.points, kg = w.kg - m.kg
    FROM (SELECT r.period, r.ward, count(*) AS n, sum(r.points) AS points, coalesce(sum(r.kg), 0) AS kg
            FROM rh_new n JOIN rh_old o USING (uprn) JOIN reward_household_months r ON r.uprn = n.uprn
           WHERE n.ward IS DISTINCT FROM o.ward AND r.ward IS DISTINCT FROM n.ward AND r.ward IS NOT NULL
           GROUP BY r.period, r.ward) m
   WHERE w.period = m.period AND w.ward = m.ward;
  INSERT INTO reward_ward_months AS w (period, ward, participating, points, kg)
    SELECT r.period, n.ward, count(*), sum(r.points), coalesce(sum(r.kg), 0)
      FROM rh_new n JOIN rh_old o USING (uprn) JOIN reward_household_months r ON r.uprn = n.uprn
     WHERE n.ward IS DISTINCT FROM o.ward AND r.ward IS DISTINCT FROM n.ward AND n.ward IS NOT NULL
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (period, ward) DO UPDATE
      SET participating = w.participating + excluded.participating, points = w.points + excluded.points, kg = w.kg + excluded.kg;
  UPDATE reward_household_months r SET ward = n.ward
    FROM rh_new n JOIN rh_old o USING (uprn)
   WHERE r.uprn = n.uprn AND n.ward IS DISTINCT FROM o.ward AND r.ward IS DISTINCT FROM n.ward;
  RETURN NULL;
END $$;
CREATE TRIGGER reward_totals_ward_move AFTER UPDATE ON households REFERENCING OLD TABLE AS rh_old NEW TABLE AS rh_new FOR EACH STATEMENT EXECUTE FUNCTION reward_totals_ward_move();

-- The totals of what is already posted.
INSERT INTO reward_household_months (period, uprn, ward, points, kg, kg_entry_id)
  SELECT x.period, x.uprn, h.ward, x.points, (k.evidence->>'kg')::numeric, x.kg_entry_id
    FROM (SELECT period, uprn, sum(points) AS points, max(entry_id) FILTER (WHERE rule = 'recycled_weight') AS kg_entry_id
            FROM reward_ledger GROUP BY period, uprn) x
    JOIN households h ON h.uprn = x.uprn
    LEFT JOIN reward_ledger k ON k.entry_id = x.kg_entry_id;
INSERT INTO reward_ward_months (period, ward, participating, points, kg)
  SELECT period, ward, count(*), sum(points), coalesce(sum(kg), 0)
    FROM reward_household_months WHERE ward IS NOT NULL GROUP BY period, ward;
