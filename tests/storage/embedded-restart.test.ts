// Regression: after the embedded database was closed and reopened, inserts into hypertables failed
// ("invalid INSERT on the root table of hypertable"), because PGlite had not loaded TimescaleDB's
// library in the new session. The adapter now loads it at open.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { silentLogger } from '../../core/log.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { refreshReadingsRollup, readingAggregates } from '../../storage/readings.ts'

test('embedded TimescaleDB keeps working after a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kerbside-restart-'))
  try {
    const insert = (db: Awaited<ReturnType<typeof openDatabase>>, seq: number, ts: string) =>
      db.query(`INSERT INTO bin_readings (device_id, ts, seq, fill_pct) VALUES ('d', $1, $2, $3)`, [ts, seq, seq * 10])
    const first = await openDatabase({ logger: silentLogger, dataDir })
    expect(first.capabilities.tier).toBe('timescaledb')
    await insert(first, 1, '2026-11-20T10:10:00Z')
    await first.close()

    const second = await openDatabase({ logger: silentLogger, dataDir })
    expect(second.capabilities.tier).toBe('timescaledb')
    await insert(second, 2, '2026-11-20T10:20:00Z')
    await refreshReadingsRollup(second, { now: new Date('2026-11-21T00:00:00Z') })
    const [hour] = await readingAggregates(second, 'd', new Date('2026-11-20T10:00:00Z'), new Date('2026-11-20T11:00:00Z'), 3600)
    expect(hour).toMatchObject({ n: 2, fillMin: 10, fillMax: 20 })
    await second.close()
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})
