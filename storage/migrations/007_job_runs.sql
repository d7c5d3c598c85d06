-- Scheduled jobs: one row per job and period. A run that finished for a period is not repeated
-- (node-cron may fire on several instances, or twice after a restart); a failed run is retried.
CREATE TABLE job_runs (
  job          text NOT NULL,
  period       text NOT NULL,
  status       text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  detail       jsonb,
  PRIMARY KEY (job, period)
);
