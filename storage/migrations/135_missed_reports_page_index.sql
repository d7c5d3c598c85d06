-- The reports list a page at a time (GET /api/v1/reports: newest first by requested_at, then report
-- id; the next page after a report). With requested_at alone indexed, a page of 100 read and joined
-- every report made at the same instant as those of the page before sorting them (all of a day's at
-- 210,000 households in the bench: 301 rows and 14 ms for a page of 101); with both columns the page
-- is read in its order and the scan stops at the page's end (101 rows, 1 ms), and the next page's
-- start (requested_at, report_id) < (…) is an index condition.
CREATE INDEX missed_reports_page_idx ON missed_reports (requested_at, report_id);
