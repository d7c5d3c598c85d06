// Each ward's number of households is kept in ward_households (migration 133) so that the rewards
// leaderboard does not count every household per request. It must stay equal to the households
// counted by ward after every kind of registry change: an import, a re-import that moves households
// between wards, added and deleted households, direct SQL and TRUNCATE. On the embedded engine and
// on the PostgreSQL server.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { silentLogger } from '../../../core/log.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { importRegistry } from '../../../storage/registry/import.ts'
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.ts'
import { clearRegistry, smallCity, UPRN0 } from './fixture.ts'

const noCalendar = { calendar: false } as const

describe.each(['embedded', 'postgresql'] as const)('ward household counts on %s', (engine) => {
  let server: TestDatabase | null = null
  let db: Database

  beforeAll(async () => {
    server = engine === 'postgresql' ? await createTestDatabase() : null
    db = await openDatabase({ url: server?.url, logger: silentLogger })
  })
  afterAll(async () => { await db?.close(); await server?.drop() })
  beforeEach(async () => clearRegistry(db))

  /** Each ward's households as kept, and as counted. */
  async function counts(): Promise<{ kept: Record<string, number>; counted: Record<string, number> }> {
    const kept = (await db.query<{ ward: string; n: number }>(`SELECT ward, households AS n FROM ward_households WHERE households > 0`)).rows
    const counted = (await db.query<{ ward: string; n: number }>(`SELECT ward, count(*)::int AS n FROM households WHERE ward IS NOT NULL GROUP BY ward`)).rows
    const of = (rows: { ward: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.ward, r.n]).sort())
    return { kept: of(kept), counted: of(counted) }
  }

  test('an import, and a second one that moves households between wards and adds some', async () => {
    expect((await importRegistry(db, smallCity(), noCalendar)).errors).toEqual([])
    expect(await counts()).toEqual({ kept: { North: 3, South: 3 }, counted: { North: 3, South: 3 } })
    expect((await importRegistry(db, smallCity(), noCalendar)).errors).toEqual([])
    const city = smallCity(9)
    city.households[0]!.ward = 'North'
    city.households[1]!.ward = 'East'
    delete city.households[8]!.ward
    expect((await importRegistry(db, { households: city.households }, noCalendar)).errors).toEqual([])
    // 0 N (was S), 1 East (was N), 2 S, 3 N, 4 S, 5 N, 6 S, 7 N, 8 none.
    expect(await counts()).toEqual({ kept: { East: 1, North: 4, South: 3 }, counted: { East: 1, North: 4, South: 3 } })
  })

  test('direct SQL: a ward changed or cleared, a household deleted, TRUNCATE', async () => {
    expect((await importRegistry(db, smallCity(), noCalendar)).errors).toEqual([])
    await db.query(`UPDATE households SET ward = 'West' WHERE uprn IN ($1, $2)`, [UPRN0, UPRN0 + 1])
    await db.query(`UPDATE households SET ward = NULL WHERE uprn = $1`, [UPRN0 + 2])
    await db.query(`UPDATE households SET address = upper(address)`)
    expect(await counts()).toEqual({ kept: { North: 2, South: 1, West: 2 }, counted: { North: 2, South: 1, West: 2 } })
    await db.query(`DELETE FROM round_households WHERE uprn = $1`, [UPRN0 + 4])
    await db.query(`DELETE FROM bins WHERE uprn = $1`, [UPRN0 + 4])
    await db.query(`DELETE FROM households WHERE uprn = $1`, [UPRN0 + 4])
    expect(await counts()).toEqual({ kept: { North: 2, West: 2 }, counted: { North: 2, West: 2 } })
    await db.query(`TRUNCATE households CASCADE`)
    expect(await counts()).toEqual({ kept: {}, counted: {} })
  })
})
