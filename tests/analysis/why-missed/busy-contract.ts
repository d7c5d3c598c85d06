// Contract R for the why-missed roll-up tests: busier than the hand-computed scenario, built by SQL.
import type { Database } from '../../../storage/database.ts'
import { createRound } from '../../helpers/outcome-fixture.ts'

/**
 * Contract R: 600 households on six rounds (three residual, three recycling on Monday to Wednesday,
 * one without a vehicle), five weeks of collections from 2 March, outcomes and codes spread by a
 * hash of the collection, lifts through the day in driving order (some before and after the round's
 * hours), a few collections cancelled; street names shared between wards, and some households
 * without street, ward or position.
 */
export async function seedBusyContract(db: Database): Promise<void> {
  await db.query(`INSERT INTO contracts (contract_id, contractor_id, name, starts_on) VALUES ('R', 'fx-contractor', 'Contract R', '2025-01-01')`)
  for (let r = 1; r <= 6; r++) await createRound(db, { roundId: `R-${r}`, contractId: 'R', stream: r <= 3 ? 'residual' : 'recycling', vehicleId: `R-v-${r}`, weekday: ((r - 1) % 3) + 1, startsAt: '08:00', endsAt: '14:00' })
  await db.query(`UPDATE rounds SET vehicle_id = NULL WHERE round_id = 'R-6'`)
  await db.query(`
    INSERT INTO households (uprn, address, street, postcode, ward, lat, lon)
    SELECT 200000000000 + i, i || ' Any Road',
           CASE WHEN i % 97 = 0 THEN NULL ELSE 'Street ' || (i % 24) END, 'L1 1AA',
           CASE WHEN i % 89 = 0 THEN NULL ELSE 'Ward ' || (i % 3) END,
           CASE WHEN i % 113 = 0 THEN NULL ELSE 53.38 + (i % 37) * 0.0013 + (i % 7) * 0.0001 END,
           CASE WHEN i % 113 = 0 OR i % 131 = 0 THEN NULL ELSE -2.99 + (i % 41) * 0.0019 END
      FROM generate_series(1, 600) AS i`)
  await db.query(`
    INSERT INTO round_households (round_id, uprn, position)
    SELECT 'R-' || (1 + i % 3 + 3 * s), 200000000000 + i, i FROM generate_series(1, 600) AS i, generate_series(0, 1) AS s`)
  await db.query(`
    INSERT INTO scheduled_collections (uprn, stream, round_id, scheduled_date, due_date, cancelled)
    SELECT rh.uprn, r.stream, r.round_id, d, d, abs(hashtext(rh.uprn || r.round_id || d)) % 1000 >= 995
      FROM round_households rh JOIN rounds r ON r.round_id = rh.round_id AND r.contract_id = 'R',
           generate_series(0, 4) AS w, LATERAL (SELECT date '2026-03-02' + (r.weekday - 1) + 7 * w AS d) AS day`)
  await db.query(`
    INSERT INTO collection_outcomes (collection_id, uprn, stream, round_id, contract_id, due_date, outcome, exception_code, lift_ts)
    SELECT sc.collection_id, sc.uprn, sc.stream, sc.round_id, 'R', sc.due_date, x.outcome,
           CASE WHEN x.outcome = 'crew_exception' THEN (ARRAY['not_presented', 'contaminated', 'no_access', 'excess_waste', 'overweight', 'wrong_bin', 'bulky', NULL])[1 + x.h % 8] END,
           CASE WHEN x.outcome IN ('collected', 'crew_exception') THEN sc.due_date + time '06:30' + rh.position * interval '50 seconds'
                WHEN x.outcome IN ('collected_late', 'rectified', 'rectified_late') THEN sc.due_date + 1 + time '10:00' END
      FROM scheduled_collections sc
      JOIN round_households rh ON rh.round_id = sc.round_id AND rh.uprn = sc.uprn
      CROSS JOIN LATERAL (SELECT abs(hashtext(sc.collection_id::text || 'o')) % 1000 AS h) AS hh
      CROSS JOIN LATERAL (SELECT hh.h AS h, CASE WHEN hh.h < 25 THEN 'missed' WHEN hh.h < 35 THEN 'rectified' WHEN hh.h < 40 THEN 'rectified_late'
                              WHEN hh.h < 50 THEN 'collected_late' WHEN hh.h < 90 THEN 'crew_exception' WHEN hh.h < 95 THEN 'pending'
                              ELSE 'collected' END AS outcome) AS x
     WHERE sc.round_id LIKE 'R-%'`)
  // A whole round day with nothing lifted: its misses have no passing time (a few of them, as every
  // one walks the whole round).
  await db.query(`DELETE FROM collection_outcomes WHERE round_id = 'R-5' AND due_date = '2026-03-24' AND uprn % 25 <> 0`)
  await db.query(`UPDATE collection_outcomes SET outcome = 'missed', exception_code = NULL, lift_ts = NULL WHERE round_id = 'R-5' AND due_date = '2026-03-24'`)
}
