-- "Why bins are missed" rolled up per contract and due day (analysis/why-missed/rollup.ts), so that
-- a four-week answer sums a few thousand stored rows instead of passing over every outcome.
--
-- Every breakdown is a sum of counts per outcome and exception code; these tables hold those sums
-- at the finest grain each breakdown needs, one day at a time:
--   why_missed_round_days  per round: the round, vehicle, stream, weekday and total breakdowns
--                          (vehicle and stream are read from rounds when asked, so a round handed
--                          to another vehicle needs no recomputation)
--   why_missed_time_days   per local hour the round passed and the window against the round's hours
--   why_missed_place_days  per street (in its ward) and 250 m grid cell, with the sums of the
--                          households' positions weighted by collections (the street's mean position)
--   why_missed_days        which contract-days are rolled up, in which time zone
--   why_missed_stale_days  contract-days whose inputs changed since, marked by the triggers below:
--                          outcomes, cancellations and moves, a household's street, ward or position,
--                          a round's hours, a round's stops. Readers compute them live; the KPI
--                          roll-up's refresh (analysis/performance/rollup.ts) recomputes them.
-- The sum columns are, as in breakdowns.ts: scheduled (decided, not cancelled), missed (missed +
-- rectified + rectified_late), collected_late, crew_exceptions, return_visits (rectified +
-- rectified_late) and crew exceptions by code.

CREATE TABLE why_missed_round_days (
  contract_id        text NOT NULL,
  day                date NOT NULL,
  round_id           text NOT NULL,
  scheduled          integer NOT NULL,
  missed             integer NOT NULL,
  collected_late     integer NOT NULL,
  crew_exceptions    integer NOT NULL,
  return_visits      integer NOT NULL,
  exc_not_presented  integer NOT NULL,
  exc_contaminated   integer NOT NULL,
  exc_no_access      integer NOT NULL,
  exc_excess_waste   integer NOT NULL,
  exc_overweight     integer NOT NULL,
  exc_wrong_bin      integer NOT NULL,
  exc_other          integer NOT NULL,
  PRIMARY KEY (contract_id, day, round_id)
);

CREATE TABLE why_missed_time_days (
  contract_id        text NOT NULL,
  day                date NOT NULL,
  hour               integer,              -- NULL: the round had not passed
  round_window       text NOT NULL,        -- before, within, after, not_passed
  scheduled          integer NOT NULL,
  missed             integer NOT NULL,
  collected_late     integer NOT NULL,
  crew_exceptions    integer NOT NULL,
  return_visits      integer NOT NULL,
  exc_not_presented  integer NOT NULL,
  exc_contaminated   integer NOT NULL,
  exc_no_access      integer NOT NULL,
  exc_excess_waste   integer NOT NULL,
  exc_overweight     integer NOT NULL,
  exc_wrong_bin      integer NOT NULL,
  exc_other          integer NOT NULL
);
CREATE INDEX why_missed_time_days_idx ON why_missed_time_days (contract_id, day);

-- Street, ward and cell may be NULL (a household without them), so no primary key: the refresh
-- deletes a day's rows and writes them again.
CREATE TABLE why_missed_place_days (
  contract_id        text NOT NULL,
  day                date NOT NULL,
  ward               text,
  street             text,
  cell_y             integer,              -- 250 m grid (breakdowns.ts)
  cell_x             integer,
  scheduled          integer NOT NULL,
  missed             integer NOT NULL,
  collected_late     integer NOT NULL,
  crew_exceptions    integer NOT NULL,
  return_visits      integer NOT NULL,
  exc_not_presented  integer NOT NULL,
  exc_contaminated   integer NOT NULL,
  exc_no_access      integer NOT NULL,
  exc_excess_waste   integer NOT NULL,
  exc_overweight     integer NOT NULL,
  exc_wrong_bin      integer NOT NULL,
  exc_other          integer NOT NULL,
  lat_sum            double precision,     -- sum of lat × collections, households with a latitude
  lat_n              integer NOT NULL,     -- collections of households with a latitude
  lon_sum            double precision,
  lon_n              integer NOT NULL
);
CREATE INDEX why_missed_place_days_idx ON why_missed_place_days (contract_id, day);

CREATE TABLE why_missed_days (
  contract_id  text NOT NULL,
  day          date NOT NULL,
  computed_at  timestamptz NOT NULL,
  time_zone    text NOT NULL,
  PRIMARY KEY (contract_id, day)
);

CREATE SEQUENCE why_missed_stale_version;
CREATE TABLE why_missed_stale_days (
  contract_id  text NOT NULL,
  day          date NOT NULL,
  version      bigint NOT NULL DEFAULT nextval('why_missed_stale_version'),
  PRIMARY KEY (contract_id, day)
);

-- Outcomes: a row written, removed, or changed in what the breakdowns read (not its evidence or
-- decision time, which the hourly classification rewrites). One statement-level trigger per event.
CREATE FUNCTION why_missed_mark_outcome_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO why_missed_stale_days (contract_id, day)
      SELECT DISTINCT contract_id, due_date FROM wm_new
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('why_missed_stale_version');
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO why_missed_stale_days (contract_id, day)
      SELECT DISTINCT contract_id, due_date FROM wm_old
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('why_missed_stale_version');
  ELSE
    INSERT INTO why_missed_stale_days (contract_id, day)
      SELECT DISTINCT x.contract_id, x.due_date
        FROM wm_new n
        JOIN wm_old o ON o.collection_id = n.collection_id
         AND (o.uprn, o.stream, o.round_id, o.contract_id, o.due_date, o.outcome, o.exception_code, o.lift_ts)
             IS DISTINCT FROM (n.uprn, n.stream, n.round_id, n.contract_id, n.due_date, n.outcome, n.exception_code, n.lift_ts)
        CROSS JOIN LATERAL (VALUES (o.contract_id, o.due_date), (n.contract_id, n.due_date)) AS x(contract_id, due_date)
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('why_missed_stale_version');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER why_missed_outcomes_insert AFTER INSERT ON collection_outcomes REFERENCING NEW TABLE AS wm_new FOR EACH STATEMENT EXECUTE FUNCTION why_missed_mark_outcome_days();
CREATE TRIGGER why_missed_outcomes_update AFTER UPDATE ON collection_outcomes REFERENCING OLD TABLE AS wm_old NEW TABLE AS wm_new FOR EACH STATEMENT EXECUTE FUNCTION why_missed_mark_outcome_days();
CREATE TRIGGER why_missed_outcomes_delete AFTER DELETE ON collection_outcomes REFERENCING OLD TABLE AS wm_old FOR EACH STATEMENT EXECUTE FUNCTION why_missed_mark_outcome_days();

-- TRUNCATE fires no row triggers: forget every roll-up instead.
CREATE FUNCTION why_missed_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM why_missed_days;
  RETURN NULL;
END $$;
CREATE TRIGGER why_missed_outcomes_truncate AFTER TRUNCATE ON collection_outcomes FOR EACH STATEMENT EXECUTE FUNCTION why_missed_forget_all();

-- The calendar: a decided collection cancelled or reinstated, or moved to another day, leaves or
-- joins the counts of its outcome's day (and of the days it moved between).
CREATE FUNCTION why_missed_mark_calendar_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO why_missed_stale_days (contract_id, day)
    SELECT DISTINCT co.contract_id, x.day
      FROM wm_new n
      JOIN wm_old o ON o.collection_id = n.collection_id AND (o.cancelled, o.due_date) IS DISTINCT FROM (n.cancelled, n.due_date)
      JOIN collection_outcomes co ON co.collection_id = n.collection_id
      CROSS JOIN LATERAL (VALUES (co.due_date), (o.due_date), (n.due_date)) AS x(day)
    ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('why_missed_stale_version');
  RETURN NULL;
END $$;
CREATE TRIGGER why_missed_calendar_update AFTER UPDATE ON scheduled_collections REFERENCING OLD TABLE AS wm_old NEW TABLE AS wm_new FOR EACH STATEMENT EXECUTE FUNCTION why_missed_mark_calendar_days();

-- The registry: a household's street, ward or position moves its collections to another street or
-- cell; only the days rolled up need marking (the others are computed when they are rolled up).
CREATE FUNCTION why_missed_mark_household_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO why_missed_stale_days (contract_id, day)
    SELECT DISTINCT w.contract_id, w.day
      FROM wm_new n
      JOIN wm_old o ON o.uprn = n.uprn AND (o.street, o.ward, o.lat, o.lon) IS DISTINCT FROM (n.street, n.ward, n.lat, n.lon)
      JOIN collection_outcomes co ON co.uprn = n.uprn
      JOIN why_missed_days w ON w.contract_id = co.contract_id AND w.day = co.due_date
    ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('why_missed_stale_version');
  RETURN NULL;
END $$;
CREATE TRIGGER why_missed_households_update AFTER UPDATE ON households REFERENCING OLD TABLE AS wm_old NEW TABLE AS wm_new FOR EACH STATEMENT EXECUTE FUNCTION why_missed_mark_household_days();

-- A round's hours decide the window; rare, so every rolled-up day of its contract is marked.
CREATE FUNCTION why_missed_mark_round_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO why_missed_stale_days (contract_id, day)
    SELECT DISTINCT w.contract_id, w.day
      FROM wm_new n
      JOIN wm_old o ON o.round_id = n.round_id AND (o.starts_at, o.ends_at) IS DISTINCT FROM (n.starts_at, n.ends_at)
      JOIN why_missed_days w ON w.contract_id IN (o.contract_id, n.contract_id)
    ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('why_missed_stale_version');
  RETURN NULL;
END $$;
CREATE TRIGGER why_missed_rounds_update AFTER UPDATE ON rounds REFERENCING OLD TABLE AS wm_old NEW TABLE AS wm_new FOR EACH STATEMENT EXECUTE FUNCTION why_missed_mark_round_days();

-- A round's stops in driving order decide when it passed a missed property: a stop added, removed
-- or moved marks the rolled-up days that round has outcomes on.
CREATE FUNCTION why_missed_mark_stop_days() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT round_id) INTO changed FROM wm_new;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT round_id) INTO changed FROM wm_old;
  ELSE
    SELECT array_agg(DISTINCT x.round_id) INTO changed
      FROM wm_new n
      JOIN wm_old o ON (o.round_id, o.uprn) = (n.round_id, n.uprn) AND o.position IS DISTINCT FROM n.position
      CROSS JOIN LATERAL (VALUES (o.round_id), (n.round_id)) AS x(round_id);
  END IF;
  IF changed IS NOT NULL THEN
    INSERT INTO why_missed_stale_days (contract_id, day)
      SELECT w.contract_id, w.day
        FROM why_missed_days w
       WHERE w.contract_id IN (SELECT contract_id FROM rounds WHERE round_id = ANY (changed))
         AND EXISTS (SELECT 1 FROM collection_outcomes co WHERE co.round_id = ANY (changed) AND co.due_date = w.day)
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('why_missed_stale_version');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER why_missed_stops_insert AFTER INSERT ON round_households REFERENCING NEW TABLE AS wm_new FOR EACH STATEMENT EXECUTE FUNCTION why_missed_mark_stop_days();
CREATE TRIGGER why_missed_stops_update AFTER UPDATE ON round_households REFERENCING OLD TABLE AS wm_old NEW TABLE AS wm_new FOR EACH STATEMENT EXECUTE FUNCTION why_missed_mark_stop_days();
CREATE TRIGGER why_missed_stops_delete AFTER DELETE ON round_households REFERENCING OLD TABLE AS wm_old FOR EACH STATEMENT EXECUTE FUNCTION why_missed_mark_stop_days();
