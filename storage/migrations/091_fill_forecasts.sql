-- Fill forecasts per sensor bin (analysis/forecast, docs/proactive.md): the latest forecast of each bin,
-- rewritten by the fill-forecast job. `overflow` says the bin is forecast to be full before its next
-- scheduled collection; `priority` orders the contract manager's list (communal and high-use first).
CREATE TABLE bin_forecasts (
  bin_id             text PRIMARY KEY REFERENCES bins (bin_id) ON DELETE CASCADE,
  uprn               bigint NOT NULL,
  stream             text NOT NULL,
  capacity_l         integer,
  communal           boolean NOT NULL,
  high_use           boolean NOT NULL,
  fill_pct           real NOT NULL,
  read_at            timestamptz NOT NULL,
  last_emptied_at    timestamptz,
  rate_pct_per_day   real,
  full_at            timestamptz,
  next_due_date      date,
  next_collection_at timestamptz,
  fill_at_next_pct   real,
  overflow           boolean NOT NULL,
  cycles             integer NOT NULL,
  basis              text NOT NULL,
  priority           integer NOT NULL,
  forecast_at        timestamptz NOT NULL
);
CREATE INDEX bin_forecasts_list_idx ON bin_forecasts (overflow DESC, priority, full_at);
