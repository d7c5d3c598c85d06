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
