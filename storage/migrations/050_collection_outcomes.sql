-- What happened to each scheduled collection, decided from the evidence (analysis/outcomes) and
-- re-decided when late data arrives. One row per scheduled collection; the round, household,
-- stream and due date are repeated here so that performance queries need no join.
CREATE TABLE collection_outcomes (
  collection_id      bigint PRIMARY KEY REFERENCES scheduled_collections (collection_id) ON DELETE CASCADE,
  uprn               bigint NOT NULL,
  stream             text NOT NULL,
  round_id           text NOT NULL,
  contract_id        text NOT NULL,
  due_date           date NOT NULL,
  outcome            text NOT NULL CHECK (outcome IN ('pending', 'collected', 'collected_late', 'crew_exception', 'missed', 'rectified', 'rectified_late')),
  exception_code     text,
  -- The lift that decided it (collected, collected late, or the return visit that rectified it)
  lift_ts            timestamptz,
  lift_device_id     text,
  lift_seq           bigint,
  lift_vehicle_id    text,
  lift_weight_kg     real,
  lift_distance_m    real,
  -- Misses: when the miss was established, when it was reported, and the deadline to put it right
  missed_at          timestamptz,
  first_report_id    bigint,
  reported_at        timestamptz,
  rectify_deadline   timestamptz,
  rectified_at       timestamptz,
  evidence           jsonb NOT NULL DEFAULT '{}'::jsonb,
  decided_at         timestamptz NOT NULL DEFAULT now(),
  revision           integer NOT NULL DEFAULT 1
);
CREATE INDEX collection_outcomes_contract_due_idx ON collection_outcomes (contract_id, due_date);
CREATE INDEX collection_outcomes_round_due_idx ON collection_outcomes (round_id, due_date);
CREATE INDEX collection_outcomes_uprn_idx ON collection_outcomes (uprn, stream, due_date DESC);
CREATE INDEX collection_outcomes_outcome_idx ON collection_outcomes (outcome, due_date);
