-- Contractor KPIs rolled up per contract, round and day (analysis/performance), so that dashboards
-- read a month as a few hundred rows instead of a million collection outcomes.
--
--   kpi_round_days   additive counts per (contract, round, day): the day is the collection's due
--                    date, or for missed-bin reports the London day the report was made. Ratios,
--                    points and scores are derived from sums of these counts, never stored.
--   kpi_days         which contract-days are rolled up, when, and until when the figures hold:
--                    a miss still within its rectification deadline turns into "not rectified in
--                    time" when the deadline passes, without any row changing (settles_at), and the
--                    repeat rule depends on the contract's repeat_window_days, and reports count on
--                    the local day of the time zone used.
--   kpi_stale_days   contract-days whose inputs changed since they were rolled up, marked by the
--                    triggers below. Readers compute those days live; the roll-up job recomputes
--                    and stores them. `version` changes on every mark, so that a refresh removes
--                    only the marks it has seen (a mark made while it computed survives).
--   kpi_contract_months  the month-to-date points and deduction, as of the last roll-up.
-- See docs/kpis.md for every count and KPI.

CREATE TABLE kpi_round_days (
  contract_id              text NOT NULL,
  round_id                 text NOT NULL,
  day                      date NOT NULL,
  scheduled                integer NOT NULL DEFAULT 0,  -- decided (not pending), not cancelled
  pending                  integer NOT NULL DEFAULT 0,
  collected                integer NOT NULL DEFAULT 0,
  collected_late           integer NOT NULL DEFAULT 0,
  crew_exceptions          integer NOT NULL DEFAULT 0,
  missed                   integer NOT NULL DEFAULT 0,  -- missed + rectified + rectified_late
  missed_reported          integer NOT NULL DEFAULT 0,
  rectified                integer NOT NULL DEFAULT 0,
  rectified_late           integer NOT NULL DEFAULT 0,
  outstanding              integer NOT NULL DEFAULT 0,  -- missed and not returned to (yet)
  awaiting_rectification   integer NOT NULL DEFAULT 0,  -- outstanding, deadline not passed
  not_rectified            integer NOT NULL DEFAULT 0,  -- rectified late, or deadline passed
  repeat_misses            integer NOT NULL DEFAULT 0,
  repeat_not_rectified     integer NOT NULL DEFAULT 0,
  exc_not_presented        integer NOT NULL DEFAULT 0,
  exc_contaminated         integer NOT NULL DEFAULT 0,
  exc_no_access            integer NOT NULL DEFAULT 0,
  exc_excess_waste         integer NOT NULL DEFAULT 0,
  exc_overweight           integer NOT NULL DEFAULT 0,
  exc_wrong_bin            integer NOT NULL DEFAULT 0,
  exc_other                integer NOT NULL DEFAULT 0,
  reports                  integer NOT NULL DEFAULT 0,
  reports_valid            integer NOT NULL DEFAULT 0,
  reports_invalid          integer NOT NULL DEFAULT 0,
  PRIMARY KEY (contract_id, day, round_id)
);

CREATE TABLE kpi_days (
  contract_id         text NOT NULL,
  day                 date NOT NULL,
  computed_at         timestamptz NOT NULL,
  repeat_window_days  integer NOT NULL,
  time_zone           text NOT NULL,
  settles_at          timestamptz,          -- the earliest deadline still ahead; NULL = none
  PRIMARY KEY (contract_id, day)
);

CREATE SEQUENCE kpi_stale_version;
CREATE TABLE kpi_stale_days (
  contract_id  text NOT NULL,
  day          date NOT NULL,
  version      bigint NOT NULL DEFAULT nextval('kpi_stale_version'),
  PRIMARY KEY (contract_id, day)
);

CREATE TABLE kpi_contract_months (
  contract_id         text NOT NULL,
  month               date NOT NULL,        -- first day of the month
  as_of_day           date NOT NULL,        -- the last day included (month to date)
  points              numeric NOT NULL,
  deduction_uncapped  numeric NOT NULL,
  deduction_cap       numeric NOT NULL,
  deduction           numeric NOT NULL,
  computed_at         timestamptz NOT NULL,
  PRIMARY KEY (contract_id, month)
);

-- Marking: one statement-level trigger per event, so that a bulk classification of a whole day
-- costs one INSERT of its distinct contract-days, not one per row.
CREATE FUNCTION kpi_mark_outcome_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO kpi_stale_days (contract_id, day)
      SELECT DISTINCT contract_id, due_date FROM kpi_new
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version');
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO kpi_stale_days (contract_id, day)
      SELECT DISTINCT contract_id, due_date FROM kpi_old
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER kpi_outcomes_insert AFTER INSERT ON collection_outcomes REFERENCING NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_outcome_days();
CREATE TRIGGER kpi_outcomes_update AFTER UPDATE ON collection_outcomes REFERENCING OLD TABLE AS kpi_old NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_outcome_days();
CREATE TRIGGER kpi_outcomes_delete AFTER DELETE ON collection_outcomes REFERENCING OLD TABLE AS kpi_old FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_outcome_days();

-- TRUNCATE fires no row triggers: forget every roll-up instead.
CREATE FUNCTION kpi_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM kpi_days;
  RETURN NULL;
END $$;
CREATE TRIGGER kpi_outcomes_truncate AFTER TRUNCATE ON collection_outcomes FOR EACH STATEMENT EXECUTE FUNCTION kpi_forget_all();

-- Reports count on the London day they were made, for the round serving that household's stream.
-- The trigger does not know the deployment's time zone, so it marks the UTC day and both
-- neighbours: a day marked needlessly is only computed again.
CREATE FUNCTION kpi_mark_report_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO kpi_stale_days (contract_id, day)
      SELECT DISTINCT r.contract_id, (n.requested_at AT TIME ZONE 'UTC')::date + d
        FROM kpi_new n
        JOIN round_households rh ON rh.uprn = n.uprn
        JOIN rounds r ON r.round_id = rh.round_id AND r.stream = n.stream
        CROSS JOIN (VALUES (-1), (0), (1)) AS near(d)
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version');
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO kpi_stale_days (contract_id, day)
      SELECT DISTINCT r.contract_id, (o.requested_at AT TIME ZONE 'UTC')::date + d
        FROM kpi_old o
        JOIN round_households rh ON rh.uprn = o.uprn
        JOIN rounds r ON r.round_id = rh.round_id AND r.stream = o.stream
        CROSS JOIN (VALUES (-1), (0), (1)) AS near(d)
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER kpi_reports_insert AFTER INSERT ON missed_reports REFERENCING NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_report_days();
CREATE TRIGGER kpi_reports_update AFTER UPDATE ON missed_reports REFERENCING OLD TABLE AS kpi_old NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_report_days();
CREATE TRIGGER kpi_reports_delete AFTER DELETE ON missed_reports REFERENCING OLD TABLE AS kpi_old FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_report_days();

-- A collection cancelled (or reinstated) after it was classified leaves or joins the counts.
CREATE FUNCTION kpi_mark_cancelled_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO kpi_stale_days (contract_id, day)
    SELECT DISTINCT co.contract_id, co.due_date
      FROM kpi_new n
      JOIN kpi_old o ON o.collection_id = n.collection_id AND o.cancelled IS DISTINCT FROM n.cancelled
      JOIN collection_outcomes co ON co.collection_id = n.collection_id
    ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version');
  RETURN NULL;
END $$;
CREATE TRIGGER kpi_collections_cancelled AFTER UPDATE ON scheduled_collections REFERENCING OLD TABLE AS kpi_old NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_cancelled_days();

-- The counts leave cancelled collections out; they are few, and this finds them without reading
-- every scheduled collection of the period.
CREATE INDEX scheduled_collections_cancelled_idx ON scheduled_collections (due_date) WHERE cancelled;

-- Outcomes classified before this migration: every day they cover is to be rolled up.
INSERT INTO kpi_stale_days (contract_id, day) SELECT DISTINCT contract_id, due_date FROM collection_outcomes;
