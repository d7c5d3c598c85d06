-- KPI `pending` is counted from the calendar (collections due, not cancelled, not decided:
-- docs/kpis.md), so a change of the calendar changes a rolled-up day even when no outcome does: a
-- collection added or removed (calendar generation, a registry correction), moved to another day or
-- round, or cancelled or reinstated before it was decided. Mark the contract-days of the old and the
-- new rows stale; one statement-level trigger per event, as for outcomes (migration 060).
CREATE FUNCTION kpi_mark_calendar_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO kpi_stale_days (contract_id, day)
      SELECT DISTINCT r.contract_id, n.due_date FROM kpi_new n JOIN rounds r ON r.round_id = n.round_id
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version');
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO kpi_stale_days (contract_id, day)
      SELECT DISTINCT r.contract_id, o.due_date FROM kpi_old o JOIN rounds r ON r.round_id = o.round_id
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version');
  ELSE
    INSERT INTO kpi_stale_days (contract_id, day)
      SELECT DISTINCT r.contract_id, x.due_date
        FROM kpi_new n
        JOIN kpi_old o ON o.collection_id = n.collection_id
         AND (o.due_date, o.round_id, o.cancelled) IS DISTINCT FROM (n.due_date, n.round_id, n.cancelled)
        CROSS JOIN LATERAL (VALUES (o.round_id, o.due_date), (n.round_id, n.due_date)) AS x(round_id, due_date)
        JOIN rounds r ON r.round_id = x.round_id
      ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER kpi_calendar_insert AFTER INSERT ON scheduled_collections REFERENCING NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_calendar_days();
CREATE TRIGGER kpi_calendar_update AFTER UPDATE ON scheduled_collections REFERENCING OLD TABLE AS kpi_old NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_calendar_days();
CREATE TRIGGER kpi_calendar_delete AFTER DELETE ON scheduled_collections REFERENCING OLD TABLE AS kpi_old FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_calendar_days();

-- Days rolled up before pending came from the calendar are computed again.
INSERT INTO kpi_stale_days (contract_id, day) SELECT contract_id, day FROM kpi_days
  ON CONFLICT (contract_id, day) DO UPDATE SET version = nextval('kpi_stale_version');
