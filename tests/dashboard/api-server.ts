// The real Kerbside API on the embedded database, in its own Node process, for the dashboard's state
// tests: they run in a browser-like DOM (happy-dom) that cannot load the server's Node modules, so
// the server runs here and they call it over HTTP as the dashboard does. Seeded with the
// hand-computed performance scenario (contract K, March 2026; tests/analysis/performance/scenario.ts),
// missed-bin reports, API keys for every role and a dashboard user. Prints one line of JSON with the
// URL and credentials, then serves until killed.
import { Registry } from 'prom-client'
import { buildApi } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { createUser } from '../../storage/users.ts'
import { seedScenario, uprn } from '../analysis/performance/scenario.ts'

const ADMIN = 'admin-key-for-dashboard-state-tests-0000'
const db = await openDatabase({ logger: silentLogger })
const app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN, rateLimitPerMinute: 10_000 })
await seedScenario(db, 'K')
// The Devices screen: sensors on the bins of the scenario's first two households, and a vehicle unit.
await db.query(`INSERT INTO bins (bin_id, uprn, stream) SELECT 'dash-bin-' || row_number() OVER (ORDER BY uprn), uprn, 'residual' FROM (SELECT uprn FROM households ORDER BY uprn LIMIT 2) h`)
await db.query(`INSERT INTO devices (device_id, kind, secret_hash, bin_id, online, last_ts) VALUES
  ('dash-s-1', 'bin', '!', 'dash-bin-1', true, now()), ('dash-s-2', 'bin', '!', 'dash-bin-2', false, now() - interval '5 hours'), ('dash-unit-1', 'vehicle', '!', NULL, true, now())`)
// The Quarantine screen: refused input as ingest keeps it (a faulty sensor's fill of 142 % twice, a
// payload that is not JSON, a lift whose payload holds a bin tag, a binary frame).
await db.query(`INSERT INTO quarantine (topic, device_id, reason, detail, payload, payload_bytes, payload_sha256, times_seen, first_seen, last_seen) VALUES
  ('kerbside/v1/bins/dash-s-9/reading', 'dash-s-9', 'schema', '/fillPct must be <= 100', convert_to('{"seq":7,"ts":"2026-12-06T09:00:00Z","fillPct":142}', 'UTF8'), 50, sha256('a'), 2, now() - interval '3 hours', now() - interval '1 hour'),
  ('kerbside/v1/bins/dash-s-9/reading', 'dash-s-9', 'schema', '/fillPct must be <= 100', convert_to('{"seq":9,"ts":"2026-12-06T10:00:00Z","fillPct":151}', 'UTF8'), 50, sha256('b'), 1, now() - interval '50 minutes', now() - interval '50 minutes'),
  ('kerbside/v1/bins/dash-s-8/reading', 'dash-s-8', 'bad_json', 'Unexpected end of JSON input', convert_to('{"seq":3,"ts":', 'UTF8'), 14, sha256('c'), 1, now() - interval '2 hours', now() - interval '2 hours'),
  ('kerbside/v1/vehicles/dash-unit-1/lift', 'dash-unit-1', 'schema', '/outcome must be equal to one of the allowed values', convert_to('{"seq":1,"tag":"E200001722110144189DASH","lat":53.4,"lon":-2.98,"outcome":"lost"}', 'UTF8'), 80, sha256('d'), 1, now() - interval '30 minutes', now() - interval '30 minutes'),
  ('kerbside/v1/bins/dash-s-8/reading/cbor', 'dash-s-8', 'bad_encoding', 'not CBOR', decode('bf610001', 'hex'), 4, sha256('e'), 1, now() - interval '20 minutes', now() - interval '20 minutes')`)
const keys: Record<string, string> = {}
for (const role of ['contract_manager', 'viewer', 'crm', 'provisioning'] as const) keys[role] = (await createApiKey(db, role, role)).key
await createUser(db, { username: 'morgan', displayName: 'Morgan Manager', role: 'contract_manager', password: 'correct horse battery staple' })
await createUser(db, { username: 'pat', displayName: 'Pat Provisioner', role: 'provisioning', password: 'correct horse battery staple' })
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`${JSON.stringify({ url, admin: ADMIN, keys, household: uprn(9) })}\n`)

const stop = async () => {
  await app.close()
  await db.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
