-- The council's world beyond telemetry: contracts and their terms, rounds, the households each
-- round collects (in driving order), garden-waste subscriptions, and the collection calendar.

CREATE TABLE contracts (
  contract_id               text PRIMARY KEY,
  contractor_id             text NOT NULL REFERENCES contractors (contractor_id),
  name                      text NOT NULL,
  starts_on                 date NOT NULL,
  ends_on                   date,
  monthly_payment           numeric(14, 2) NOT NULL DEFAULT 0 CHECK (monthly_payment >= 0),
  -- KPI targets
  target_missed_per_100k    numeric NOT NULL DEFAULT 30 CHECK (target_missed_per_100k >= 0),
  target_on_day_pct         numeric NOT NULL DEFAULT 99.76 CHECK (target_on_day_pct BETWEEN 0 AND 100),
  target_rectified_pct      numeric NOT NULL DEFAULT 98 CHECK (target_rectified_pct BETWEEN 0 AND 100),
  -- Default points and their money value
  points_per_miss           numeric NOT NULL DEFAULT 1 CHECK (points_per_miss >= 0),
  points_not_rectified      numeric NOT NULL DEFAULT 2 CHECK (points_not_rectified >= 0),
  repeat_multiplier         numeric NOT NULL DEFAULT 2 CHECK (repeat_multiplier >= 1),
  repeat_window_days        integer NOT NULL DEFAULT 84 CHECK (repeat_window_days > 0),
  point_value               numeric(10, 2) NOT NULL DEFAULT 50 CHECK (point_value >= 0),
  deduction_cap_pct         numeric NOT NULL DEFAULT 10 CHECK (deduction_cap_pct BETWEEN 0 AND 100),
  -- Rectification and reporting
  rectify_working_days      integer NOT NULL DEFAULT 1 CHECK (rectify_working_days >= 0),
  report_opens_hour         integer NOT NULL DEFAULT 16 CHECK (report_opens_hour BETWEEN 0 AND 23),
  report_window_working_days integer NOT NULL DEFAULT 3 CHECK (report_window_working_days > 0),
  created_at                timestamptz NOT NULL DEFAULT now()
);

-- A round: one vehicle collecting one stream from an ordered list of households on one weekday,
-- every week or every other week (fortnightly rounds run on anchor_date ± 14·n days).
CREATE TABLE rounds (
  round_id      text PRIMARY KEY,
  contract_id   text NOT NULL REFERENCES contracts (contract_id),
  name          text NOT NULL,
  stream        text NOT NULL CHECK (stream IN ('residual', 'recycling', 'garden', 'food', 'glass')),
  vehicle_id    text REFERENCES vehicles (vehicle_id),
  weekday       integer NOT NULL CHECK (weekday BETWEEN 1 AND 7),   -- ISO: 1 = Monday
  frequency     text NOT NULL CHECK (frequency IN ('weekly', 'fortnightly')),
  anchor_date   date NOT NULL,
  starts_at     time NOT NULL DEFAULT '07:00',
  ends_at       time NOT NULL DEFAULT '15:00',
  subscription  boolean NOT NULL DEFAULT false,   -- only subscribed households are collected (garden waste)
  active        boolean NOT NULL DEFAULT true,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (extract(isodow FROM anchor_date) = weekday)
);

CREATE TABLE round_households (
  round_id  text NOT NULL REFERENCES rounds (round_id) ON DELETE CASCADE,
  uprn      bigint NOT NULL REFERENCES households (uprn),
  position  integer NOT NULL CHECK (position >= 0),
  PRIMARY KEY (round_id, uprn)
);
CREATE INDEX round_households_uprn_idx ON round_households (uprn);

CREATE TABLE subscriptions (
  uprn       bigint NOT NULL REFERENCES households (uprn),
  stream     text NOT NULL CHECK (stream IN ('residual', 'recycling', 'garden', 'food', 'glass')),
  starts_on  date NOT NULL,
  ends_on    date,
  PRIMARY KEY (uprn, stream, starts_on)
);

-- Council-specific calendar changes on top of the built-in bank-holiday rules:
-- collections due on `original_date` move to `moved_to` (NULL = cancelled).
CREATE TABLE calendar_overrides (
  original_date  date PRIMARY KEY,
  moved_to       date,
  reason         text
);

-- Expected collections, generated ahead from the round rules. `scheduled_date` is the round's own
-- day; `due_date` is after bank-holiday shifts and overrides. Outcomes are kept elsewhere, so that
-- regenerating the calendar never loses what happened.
CREATE TABLE scheduled_collections (
  collection_id   bigserial PRIMARY KEY,
  uprn            bigint NOT NULL REFERENCES households (uprn),
  stream          text NOT NULL,
  round_id        text NOT NULL REFERENCES rounds (round_id),
  scheduled_date  date NOT NULL,
  due_date        date NOT NULL,
  cancelled       boolean NOT NULL DEFAULT false,
  generated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (uprn, stream, scheduled_date)
);
CREATE INDEX scheduled_collections_due_idx ON scheduled_collections (due_date, round_id);
CREATE INDEX scheduled_collections_round_idx ON scheduled_collections (round_id, due_date);
