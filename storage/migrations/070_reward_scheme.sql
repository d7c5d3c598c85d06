-- The environmental reward scheme (analysis/rewards, docs/rewards.md).
--
--   reward_rule_sets  the scheme's rules as versioned JSON documents (schema: RewardRules in
--                     analysis/rewards/rules.ts), the council's own (contract_id NULL) or one
--                     contract's, each in force from the first day of a month. A change is a new
--                     version, so that what a past month was computed with stays on record.
--   reward_ledger     the points ledger: one row per entry, with the rule, the reason in words and the
--                     evidence (kg, lift ids, ward baseline…). Append-only: a recomputation after late
--                     data posts the difference as an adjusting entry, never edits or deletes a row.
--                     A household's balance is the sum of its entries.

CREATE TABLE reward_rule_sets (
  version_id      bigserial PRIMARY KEY,
  contract_id     text REFERENCES contracts (contract_id),
  effective_from  date NOT NULL CHECK (extract(day FROM effective_from) = 1),
  rules           jsonb NOT NULL,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reward_rule_sets_scope_idx ON reward_rule_sets (contract_id, effective_from DESC, version_id DESC);

CREATE TABLE reward_ledger (
  entry_id          bigserial PRIMARY KEY,
  uprn              bigint NOT NULL REFERENCES households (uprn),
  period            date NOT NULL CHECK (extract(day FROM period) = 1),   -- the month, as its first day
  rule              text NOT NULL CHECK (rule IN ('recycled_weight', 'residual_reduction', 'presentation', 'contamination',
                                                  'monthly_cap', 'monthly_floor', 'yearly_cap')),
  kind              text NOT NULL CHECK (kind IN ('award', 'adjustment')),
  points            integer NOT NULL CHECK (points <> 0),
  reason            text NOT NULL,
  evidence          jsonb NOT NULL DEFAULT '{}'::jsonb,
  rule_set_version  bigint REFERENCES reward_rule_sets (version_id),   -- NULL = the built-in defaults
  posted_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reward_ledger_uprn_idx ON reward_ledger (uprn, period, entry_id);
CREATE INDEX reward_ledger_period_idx ON reward_ledger (period, uprn);

CREATE FUNCTION reward_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'reward_ledger is append-only (% refused): post an adjusting entry instead', TG_OP;
END
$$;
CREATE TRIGGER reward_ledger_append_only BEFORE UPDATE OR DELETE ON reward_ledger
  FOR EACH ROW EXECUTE FUNCTION reward_ledger_append_only();
