-- Finding missed bins before residents do (analysis/proactive, docs/proactive.md).
--
--   proactive_misses       one row per scheduled collection the evidence says may have been missed:
--                          raised as `suspected` with a confidence, `confirmed` when the confidence is
--                          high enough (a return collection opened, the CRM told), `withdrawn` when later
--                          evidence shows it was not a miss (a lift or crew exception on the day, the
--                          bin's sensor), `resolved` when the bin was emptied after the day (the return).
--                          Rows are never deleted by the analysis: a withdrawal stays visible.
--   return_collections     the contractor's list of return visits: one per collection, opened by a
--                          confirmed proactive miss (or by hand), done when a lift empties the bin,
--                          cancelled when the miss is withdrawn.
--   proactive_round_days   per round and due day, what the crew reached and how often it passed a bin
--                          with nothing logged: the baseline that turns "nothing was logged here" into a
--                          confidence (analysis/proactive/confidence.ts).

CREATE TABLE proactive_misses (
  collection_id     bigint PRIMARY KEY REFERENCES scheduled_collections (collection_id) ON DELETE CASCADE,
  uprn              bigint NOT NULL,
  stream            text NOT NULL,
  round_id          text NOT NULL,
  contract_id       text NOT NULL,
  due_date          date NOT NULL,
  bin_id            text,
  status            text NOT NULL CHECK (status IN ('suspected', 'confirmed', 'withdrawn', 'resolved')),
  -- round_not_reached | section_skipped | passed_by
  basis             text NOT NULL,
  -- out_and_full | not_out | emptied | awaiting | unknown | none
  sensor            text NOT NULL,
  confidence        real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  evidence          jsonb NOT NULL,
  raised_at         timestamptz NOT NULL,
  confirmed_at      timestamptz,
  return_due        timestamptz,
  crm_event_id      bigint,
  withdrawn_at      timestamptz,
  withdrawn_reason  text,
  resolved_at       timestamptz,
  updated_at        timestamptz NOT NULL,
  revision          integer NOT NULL DEFAULT 1
);
CREATE INDEX proactive_misses_due_idx ON proactive_misses (due_date, status);
CREATE INDEX proactive_misses_uprn_idx ON proactive_misses (uprn, stream, due_date DESC);
CREATE INDEX proactive_misses_open_idx ON proactive_misses (due_date) WHERE status IN ('suspected', 'confirmed');

CREATE TABLE return_collections (
  return_id      bigserial PRIMARY KEY,
  collection_id  bigint NOT NULL UNIQUE REFERENCES scheduled_collections (collection_id) ON DELETE CASCADE,
  uprn           bigint NOT NULL,
  stream         text NOT NULL,
  bin_id         text,
  round_id       text NOT NULL,
  contract_id    text NOT NULL,
  due_date       date NOT NULL,
  source         text NOT NULL CHECK (source IN ('proactive', 'manual')),
  status         text NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
  due_by         timestamptz NOT NULL,
  opened_at      timestamptz NOT NULL,
  closed_at      timestamptz,
  close_reason   text
);
CREATE INDEX return_collections_open_idx ON return_collections (contract_id, due_by) WHERE status = 'open';

CREATE TABLE proactive_round_days (
  round_id         text NOT NULL,
  due_date         date NOT NULL,
  stream           text NOT NULL,
  collections      integer NOT NULL,
  -- collections the crew reached (an event further along the round), and of them: logged not_presented,
  -- passed with nothing logged alone (isolated) or in a run of neighbours (a section left out)
  reached          integer NOT NULL,
  not_presented    integer NOT NULL,
  silent_isolated  integer NOT NULL,
  silent_in_runs   integer NOT NULL,
  over             boolean NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (round_id, due_date)
);
CREATE INDEX proactive_round_days_stream_idx ON proactive_round_days (stream, due_date);
