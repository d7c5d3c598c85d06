// Posting a month to the append-only points ledger. Each run computes every rule's target for every
// household concerned and appends only the differences from what is already posted, in one
// transaction with the CRM events that announce them: a second run for the same month adds nothing,
// a run after late data adds adjusting entries, and no row is ever changed or removed.
import type { NewCrmEvent } from '../../core/contract/crm-events.ts'
import { emitCrmEvents } from '../../storage/crm-outbox.ts'
import { lockKey, type Database, type Queryable } from '../../storage/database.ts'
import { capTargets, entriesFor, ruleTargets, wardBaselines, type NewEntry, type WardBaseline } from './compute.ts'
import { loadHouseholds, loadMonthFacts, type HouseholdFacts } from './facts.ts'
import { addMonths, lastClosedMonth, monthsFrom, monthStart, RewardPeriodError, schemeYearStart, type Month } from './periods.ts'
import { listRuleSets, rulesInForce, type RewardRule, type RewardRules } from './rules.ts'

export const DEFAULT_TIME_ZONE = 'Europe/London'
const LEDGER_LOCK = lockKey('reward-ledger')
const INSERT_CHUNK = 2000

export interface MonthPosting {
  period: Month
  /** Households whose rules were evaluated (with lifts that month, or with entries to revisit). */
  households: number
  entries: number
  adjustments: number
  points: number
  events: number
}

/** Post one month (which must be over). Safe to repeat; see the file comment. */
export async function postMonth(db: Database, month: Month, opts: { timeZone?: string; now?: Date } = {}): Promise<MonthPosting> {
  const timeZone = opts.timeZone ?? DEFAULT_TIME_ZONE
  const now = opts.now ?? new Date()
  const versions = await listRuleSets(db)
  return db.transaction(async (tx) => {
    // One poster at a time: the yearly cap of a month depends on what earlier months posted.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LEDGER_LOCK])
    const facts = await loadMonthFacts(tx, month, timeZone)
    const posted = await postedFor(tx, month)
    const uprns = [...new Set([...facts.keys(), ...posted.keys()])]
    for (const h of await loadHouseholds(tx, uprns)) {
      const f = facts.get(h.uprn) ?? { uprn: h.uprn, ward: null, contractId: null, streams: {} }
      f.ward = h.ward
      f.contractId = h.contractId
      facts.set(h.uprn, f)
    }

    const rulesOf = new Map<number, { rules: RewardRules; versionId: number | null }>()
    for (const f of facts.values()) {
      const r = rulesInForce(versions, month, f.contractId)
      rulesOf.set(f.uprn, { rules: r.rules, versionId: r.versionId })
    }
    const baselineFor = baselines([...facts.values()])
    const yearStarts = [...facts.keys()].map((uprn) => monthStart(schemeYearStart(month, rulesOf.get(uprn)!.rules.caps.yearStartsInMonth)))
    const earlier = await earnedEarlierInYear(tx, [...facts.keys()], yearStarts, month)

    const entries: (NewEntry & { version: number | null })[] = []
    for (const f of facts.values()) {
      const { rules, versionId } = rulesOf.get(f.uprn)!
      const targets = ruleTargets(f, rules, f.ward === null ? undefined : baselineFor(rules, f.ward))
      const raw = targets.reduce((s, t) => s + t.points, 0)
      targets.push(...capTargets(raw, earlier.get(f.uprn) ?? 0, rules, month))
      for (const e of entriesFor(f.uprn, targets, posted.get(f.uprn) ?? new Map())) entries.push({ ...e, version: versionId })
    }
    const inserted = await insertEntries(tx, month, entries)
    const events = await rewardEvents(tx, month, inserted, now)
    return {
      period: month, households: facts.size, entries: inserted.length, adjustments: inserted.filter((e) => e.kind === 'adjustment').length,
      points: inserted.reduce((s, e) => s + e.points, 0), events,
    }
  })
}

/**
 * Post `from` and, because a month's yearly cap depends on the months before it in the scheme year,
 * every later month that is over, up to eleven more. Throws RewardPeriodError for a month not over yet.
 */
export async function postRewards(db: Database, opts: { from: Month; now?: Date; timeZone?: string; cascade?: boolean }): Promise<MonthPosting[]> {
  const now = opts.now ?? new Date()
  const last = lastClosedMonth(now, opts.timeZone ?? DEFAULT_TIME_ZONE)
  if (opts.from > last) throw new RewardPeriodError(`${opts.from} is not over yet: a month is posted once it has ended (the latest that can be posted is ${last}).`)
  const to = opts.cascade === false ? opts.from : [last, addMonths(opts.from, 11)].sort()[0]!
  const out: MonthPosting[] = []
  for (const month of monthsFrom(opts.from, to)) out.push(await postMonth(db, month, { timeZone: opts.timeZone, now }))
  return out
}

/** Baselines per ward, computed once per distinct residual-reduction setting among the rules in use. */
function baselines(households: HouseholdFacts[]): (rules: RewardRules, ward: string) => WardBaseline | undefined {
  const cache = new Map<string, Map<string, WardBaseline>>()
  return (rules, ward) => {
    const key = JSON.stringify(rules.residualReduction)
    let byWard = cache.get(key)
    if (!byWard) cache.set(key, (byWard = wardBaselines(households, rules.residualReduction)))
    return byWard.get(ward)
  }
}

async function postedFor(tx: Queryable, month: Month): Promise<Map<number, Map<RewardRule, number>>> {
  const { rows } = await tx.query<{ uprn: number; rule: RewardRule; points: number }>(
    `SELECT uprn, rule, sum(points)::int AS points FROM reward_ledger WHERE period = $1 GROUP BY uprn, rule`, [monthStart(month)],
  )
  const out = new Map<number, Map<RewardRule, number>>()
  for (const r of rows) {
    const m = out.get(r.uprn) ?? new Map<RewardRule, number>()
    m.set(r.rule, r.points)
    out.set(r.uprn, m)
  }
  return out
}

/** Points posted to each household in its scheme year before `month` (caps included). */
async function earnedEarlierInYear(tx: Queryable, uprns: number[], yearStarts: string[], month: Month): Promise<Map<number, number>> {
  const { rows } = await tx.query<{ uprn: number; points: number }>(
    `SELECT x.uprn, COALESCE(sum(l.points), 0)::int AS points
       FROM unnest($1::bigint[], $2::date[]) AS x(uprn, year_start)
       JOIN reward_ledger l ON l.uprn = x.uprn AND l.period >= x.year_start AND l.period < $3::date
      GROUP BY x.uprn`,
    [uprns, yearStarts, monthStart(month)],
  )
  return new Map(rows.map((r) => [r.uprn, r.points]))
}

interface InsertedEntry { entryId: number; uprn: number; rule: RewardRule; kind: 'award' | 'adjustment'; points: number; reason: string }

async function insertEntries(tx: Queryable, month: Month, entries: (NewEntry & { version: number | null })[]): Promise<InsertedEntry[]> {
  const out: InsertedEntry[] = []
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    const chunk = entries.slice(i, i + INSERT_CHUNK).map((e, ord) => ({ ord, ...e }))
    const { rows } = await tx.query<InsertedEntry>(
      `INSERT INTO reward_ledger (uprn, period, rule, kind, points, reason, evidence, rule_set_version)
       SELECT e.uprn, $2::date, e.rule, e.kind, e.points, e.reason, e.evidence, e.version
         FROM jsonb_to_recordset($1::jsonb) AS e(ord int, uprn bigint, rule text, kind text, points int, reason text, evidence jsonb, version bigint)
        ORDER BY e.ord
       RETURNING entry_id AS "entryId", uprn, rule, kind, points, reason`,
      [JSON.stringify(chunk), monthStart(month)],
    )
    out.push(...rows)
  }
  return out
}

/** One "points posted" event per household that got entries, with its new period total and balance. */
async function rewardEvents(tx: Queryable, month: Month, inserted: InsertedEntry[], now: Date): Promise<number> {
  if (inserted.length === 0) return 0
  const byUprn = new Map<number, InsertedEntry[]>()
  for (const e of inserted) byUprn.set(e.uprn, [...(byUprn.get(e.uprn) ?? []), e])
  const { rows } = await tx.query<{ uprn: number; balance: number; periodPoints: number }>(
    `SELECT uprn, sum(points)::int AS balance, COALESCE(sum(points) FILTER (WHERE period = $2), 0)::int AS "periodPoints"
       FROM reward_ledger WHERE uprn = ANY($1::bigint[]) GROUP BY uprn`,
    [[...byUprn.keys()], monthStart(month)],
  )
  const totals = new Map(rows.map((r) => [r.uprn, r]))
  const events: NewCrmEvent[] = [...byUprn].map(([uprn, list]) => ({
    type: 'reward.points_posted',
    idempotencyKey: `reward:${uprn}:${month}:${Math.max(...list.map((e) => e.entryId))}`,
    uprn,
    occurredAt: now,
    data: {
      period: month,
      points: list.reduce((s, e) => s + e.points, 0),
      periodPoints: totals.get(uprn)!.periodPoints,
      balance: totals.get(uprn)!.balance,
      entries: list.map(({ entryId, rule, kind, points, reason }) => ({ entryId, rule, kind, points, reason })),
    },
  }))
  await emitCrmEvents(tx, events)
  return events.length
}

// Reading the ledger.

export interface LedgerEntry extends InsertedEntry {
  period: Month
  evidence: Record<string, unknown>
  ruleSetVersion: number | null
  postedAt: Date
}

export async function rewardBalance(db: Queryable, uprn: number): Promise<number> {
  const { rows } = await db.query<{ balance: number }>(`SELECT COALESCE(sum(points), 0)::int AS balance FROM reward_ledger WHERE uprn = $1`, [uprn])
  return rows[0]!.balance
}

export interface HouseholdRewards {
  uprn: number
  balance: number
  /** Points per month, newest first */
  periods: { period: Month; points: number }[]
  total: number
  limit: number
  offset: number
  /** Newest first */
  entries: LedgerEntry[]
}

export async function householdRewards(db: Queryable, uprn: number, opts: { limit: number; offset: number; period?: Month }): Promise<HouseholdRewards> {
  const period = opts.period ? monthStart(opts.period) : null
  const [{ rows: periods }, { rows: entries }, { rows: totals }] = await Promise.all([
    db.query<{ period: Month; points: number }>(
      `SELECT to_char(period, 'YYYY-MM') AS period, sum(points)::int AS points FROM reward_ledger WHERE uprn = $1 GROUP BY period ORDER BY period DESC`, [uprn]),
    db.query<LedgerEntry>(
      `SELECT entry_id AS "entryId", uprn, to_char(period, 'YYYY-MM') AS period, rule, kind, points, reason, evidence,
              rule_set_version AS "ruleSetVersion", posted_at AS "postedAt"
         FROM reward_ledger WHERE uprn = $1 AND ($2::date IS NULL OR period = $2) ORDER BY entry_id DESC LIMIT $3 OFFSET $4`,
      [uprn, period, opts.limit, opts.offset]),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM reward_ledger WHERE uprn = $1 AND ($2::date IS NULL OR period = $2)`, [uprn, period]),
  ])
  return { uprn, balance: periods.reduce((s, p) => s + p.points, 0), periods, total: totals[0]!.total, limit: opts.limit, offset: opts.offset, entries }
}
