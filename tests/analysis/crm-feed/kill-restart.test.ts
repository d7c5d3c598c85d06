// Reliability: SIGKILL the API process (which runs the webhook worker) while the CRM holds a request
// unanswered, start it again, and check that the CRM ends up with every event: the one that was in
// flight is sent again, with its Idempotency-Key, and nothing is marked delivered that was not
// acknowledged. Embedded TimescaleDB in a folder, owned by the API process, as in production.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import { generateSecret } from '../../../core/secrets.ts'
import { emitMissedCollectionConfirmed } from '../../../storage/crm-outbox.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { waitFor } from '../../helpers/stack.ts'
import { createReceiver, freePort, type Receiver } from '../../helpers/webhook-receiver.ts'

const ROOT = join(import.meta.dirname, '..', '..', '..')
const SECRET = generateSecret()
const EVENTS = 60
const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-webhook-kill-'))
let receiver: Receiver | undefined
let child: ChildProcess | undefined

afterAll(async () => {
  child?.kill('SIGKILL')
  await receiver?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())))

test('the API process killed mid-delivery loses no event', async () => {
  const seed = await openDatabase({ dataDir, logger: silentLogger })
  await seed.query(`INSERT INTO households (uprn, address, ward, crm_ref) VALUES (300000000001, '1 Kill Street', 'Central', 'CRM-K')`)
  await seed.transaction(async (tx) => {
    for (let i = 1; i <= EVENTS; i++) {
      await emitMissedCollectionConfirmed(tx, { collectionId: i, uprn: 300000000001, stream: 'recycling', dueDate: '2026-03-03', roundId: 'R', contractId: 'K', missedAt: new Date('2026-03-03T17:00:00Z') })
    }
  })
  await seed.close()

  const crm = await createReceiver(SECRET)
  receiver = crm
  await crm.listen()
  // The thirteenth request is taken and never answered: the process dies waiting for it.
  crm.answer = (_r, n) => (n === 12 ? 'hold' : 200)
  const held = crm.held()

  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const startApi = () => spawn(process.execPath, [join(ROOT, 'cli', 'bin.js'), 'api'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH, KERBSIDE_DATA_DIR: dataDir, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort), KERBSIDE_JOBS: 'false',
      KERBSIDE_ADMIN_KEY: generateSecret(), KERBSIDE_SERVICE_SECRET: generateSecret(), MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
      CRM_WEBHOOK_URL: crm.url, CRM_WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'error',
    },
  })

  child = startApi()
  await Promise.race([held, exited(child).then(() => { throw new Error('the API process exited before delivering') })])
  child.kill('SIGKILL')
  await exited(child)
  const heldKey = crm.received.find((r) => r.answered === 'held')!.idempotencyKey
  expect(crm.acknowledged.size).toBeLessThan(EVENTS)

  crm.answer = () => 200
  child = startApi()
  await waitFor(() => crm.acknowledged.size === EVENTS || child!.exitCode !== null, 120_000, 'every event acknowledged after the restart')
  expect(child.exitCode).toBeNull()
  child.kill('SIGTERM')
  await exited(child)

  expect(crm.distinctKeys().size).toBe(EVENTS)
  expect(crm.received.every((r) => r.signatureValid)).toBe(true)
  expect(crm.received.filter((r) => r.idempotencyKey === heldKey).length).toBeGreaterThanOrEqual(2)
  const db = await openDatabase({ dataDir, logger: silentLogger, migrate: false })
  try {
    const { rows } = await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM crm_webhook_deliveries GROUP BY status`)
    expect(rows).toEqual([{ status: 'delivered', n: EVENTS }])
  } finally {
    await db.close()
  }
}, 240_000)
