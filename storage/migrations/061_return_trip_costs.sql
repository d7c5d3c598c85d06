-- What a return trip to put a missed collection right costs (analysis/why-missed/return-trips.ts):
-- a fixed cost per return visit (crew time, vehicle time, contact handling) plus a cost per
-- kilometre, with the kilometres of a visit estimated as `return_km_per_visit` (out from the round's
-- area and back). The defaults are illustrative: each council sets its own with its contractor.
ALTER TABLE contracts
  ADD COLUMN return_visit_cost   numeric(10, 2) NOT NULL DEFAULT 25 CHECK (return_visit_cost >= 0),
  ADD COLUMN return_cost_per_km  numeric(10, 2) NOT NULL DEFAULT 1.5 CHECK (return_cost_per_km >= 0),
  ADD COLUMN return_km_per_visit numeric(10, 2) NOT NULL DEFAULT 6 CHECK (return_km_per_visit >= 0);
