// The contract pages in a real browser against a running Kerbside (broker, ingest, API, embedded
// TimescaleDB) holding a simulated city with four weeks of history (tests/e2e/contract-city.ts):
// the KPI page shows the contract's own figures (as the API computes them) and drills down to the
// collections behind a KPI; why bins are missed; the household view with its timeline and the
// first-contact verdict; the reports list; the rewards leaderboard; and the same pages at tablet width.
// Screenshots: artifacts/e2e/*.png.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { postMonth } from '../../analysis/rewards/ledger.ts'
import { addDays, londonDayStart } from '../../dashboard/src/lib/periods.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import { startTestStack, type TestStack } from '../helpers/stack.ts'
import { ensureDashboardBuilt, openBrowser, screenshot, signIn, type Browser } from './browser.ts'
import { seedContractCity, type ContractCity } from './contract-city.ts'

const HOUSEHOLDS = 400
let t: TestStack
let city: ContractCity
let key: string
let browser: Browser
/** This month so far in London: the performance page's first question. */
let monthFrom: string

beforeAll(async () => {
  ensureDashboardBuilt()
  t = await startTestStack()
  city = await seedContractCity(t.db, { households: HOUSEHOLDS, weeks: 4 })
  // Post the last closed month's reward points, as the daily rewards job does once a month is over.
  await postMonth(t.db, lastMonth(city.today))
  key = (await createApiKey(t.db, 'contract manager', 'contract_manager')).key
  monthFrom = `${city.today.slice(0, 7)}-01`
  browser = await openBrowser()
}, 600_000) // four weeks of a city simulated and written through ingest's path: minutes on a busy machine
afterAll(async () => {
  await browser?.close()
  await t?.close()
})

function lastMonth(day: string): string {
  const d = new Date(`${day.slice(0, 7)}-01T00:00:00Z`)
  d.setUTCMonth(d.getUTCMonth() - 1)
  return d.toISOString().slice(0, 7)
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${t.httpUrl}${path}`, { headers: { authorization: `Bearer ${key}` } })
  expect(res.status, path).toBe(200)
  return (await res.json()) as T
}

interface Figures { scheduled: number; missed: number; missedPer100k: number | null; onDayPct: number | null; crewExceptions: number }
interface Performance { figures: Figures; score: number | null; deduction: { total: number; months: { month: string; deduction: number }[] }; points: { total: number } }

describe('the contract pages', () => {
  test('the KPI page shows the contract’s figures, as the API computes them, and drills down to the collections', async () => {
    const { page } = browser
    const from = addDays(city.today, -27)
    await signIn(page, t.httpUrl, key, '#/performance')
    // It opens on this month so far; the last four weeks hold history whatever day of the month it is.
    await page.locator(`[data-testid="performance"][data-contract="${city.contractId}"][data-from="${monthFrom}"][data-to="${city.today}"]`).waitFor({ timeout: 30_000 })
    await page.getByTestId('period-select').selectOption('4w')
    await page.locator(`[data-testid="performance"][data-from="${from}"]`).waitFor({ timeout: 30_000 })

    const p = await api<Performance>(`/api/v1/contracts/${city.contractId}/performance?from=${from}&to=${city.today}`)
    expect(p.figures.scheduled).toBeGreaterThan(1000) // a real month of collections, not an empty page
    expect(p.figures.missed).toBeGreaterThan(0) // the city has a crew that misses
    const raw = async (id: string) => page.getByTestId(`kpi-${id}`).getAttribute('data-value')
    expect(Number(await raw('missed'))).toBeCloseTo(p.figures.missedPer100k!, 6)
    expect(Number(await raw('on-day'))).toBeCloseTo(p.figures.onDayPct!, 6)
    expect(Number(await raw('exceptions'))).toBe(p.figures.crewExceptions)
    expect(Number(await raw('deduction'))).toBeCloseTo(p.deduction.total, 6)
    expect(await page.getByTestId('kpi-missed-value').textContent()).toBe(p.figures.missedPer100k!.toLocaleString('en-GB', { maximumFractionDigits: 1 }))
    // Points and the deduction so far this month, by month.
    const month = page.locator(`[data-testid="deduction-months"] li[data-month="${city.today.slice(0, 7)}"]`)
    expect(await month.textContent()).toContain('so far')
    // The league of rounds: every round of the contract with decided collections.
    await page.getByTestId('league-table').waitFor()
    expect(await page.getByTestId('league-row').count()).toBeGreaterThan(1)
    await page.getByTestId('trend-missed').waitFor({ timeout: 15_000 })
    await screenshot(page, 'performance-laptop')

    // Drill-down: the missed collections behind the KPI, by keyboard.
    await page.getByTestId('kpi-missed-drill').focus()
    await page.keyboard.press('Enter')
    await page.getByTestId('drill-row').first().waitFor()
    const behind = await api<{ total: number; items: unknown[] }>(`/api/v1/contracts/${city.contractId}/collections?kpi=missed&from=${from}&to=${city.today}&limit=25&offset=0`)
    expect(behind.total).toBeGreaterThan(0)
    expect(await page.getByTestId('drill-row').count()).toBe(behind.items.length)
    expect(await page.getByTestId('drill-down').textContent()).toContain(behind.total.toLocaleString('en-GB'))
    await screenshot(page, 'performance-drill-down')
  })

  test('why bins are missed: breakdowns, the hotspot map and repeat-miss households', async () => {
    const { page } = browser
    await page.getByRole('link', { name: 'Why missed' }).click()
    await page.getByTestId('why-summary').waitFor({ timeout: 30_000 })
    await page.getByTestId('breakdown-table').first().waitFor()
    expect(await page.getByTestId('breakdown-row').count()).toBeGreaterThan(0)
    await page.getByTestId('hotspot-map').waitFor()
    // The period chosen on the performance page holds here too (last 4 weeks).
    const why = await api<{ repeatHouseholds: { total: number; households: unknown[] } }>(`/api/v1/contracts/${city.contractId}/why-missed?from=${addDays(city.today, -27)}&to=${city.today}&households=100`)
    if (why.repeatHouseholds.households.length > 0) {
      await page.getByTestId('repeat-households').waitFor()
      expect(await page.getByTestId('repeat-household').count()).toBe(why.repeatHouseholds.households.length)
    } else {
      await page.getByTestId('repeat-households-empty').waitFor()
    }
    await screenshot(page, 'why-missed')
  })

  test('the household view: search by UPRN, the collection timeline with evidence, and the first-contact verdict', async () => {
    const { page } = browser
    // A household whose collection was missed most recently: the contact centre's typical call.
    const { rows } = await t.db.query<{ uprn: number; stream: string; due: string }>(
      `SELECT uprn, stream, to_char(due_date, 'YYYY-MM-DD') AS due FROM collection_outcomes
        WHERE contract_id = $1 AND outcome IN ('missed', 'rectified', 'rectified_late') ORDER BY due_date DESC, uprn LIMIT 1`, [city.contractId])
    const miss = rows[0]!
    await page.getByRole('link', { name: 'Households' }).click()
    await page.getByTestId('household-search').fill(String(miss.uprn))
    await page.getByTestId('household-search').press('Enter')
    const summary = page.locator(`[data-testid="household-summary"][data-uprn="${miss.uprn}"]`)
    await summary.waitFor({ timeout: 30_000 })
    expect(page.url()).toContain(`#/households/${miss.uprn}`)
    expect(await page.getByTestId('reward-balance').textContent()).toMatch(/\d+ points/)

    const timeline = page.getByTestId('collection-timeline')
    await timeline.waitFor()
    expect(await timeline.getByTestId('collection').count()).toBeGreaterThan(0)
    expect(await timeline.locator(`[data-testid="collection"][data-due="${miss.due}"]`).count()).toBeGreaterThan(0)

    await page.getByTestId('fc-stream').selectOption(miss.stream)
    await page.getByTestId('fc-date').fill(miss.due)
    await page.getByTestId('fc-date').dispatchEvent('change')
    await page.getByTestId('fc-check').click()
    const verdict = page.getByTestId('fc-verdict')
    await verdict.waitFor({ timeout: 15_000 })
    const answer = await api<{ verdict: string }>(`/api/v1/households/${miss.uprn}/first-contact?stream=${miss.stream}&date=${miss.due}`)
    expect(await verdict.getAttribute('data-verdict')).toBe(answer.verdict)
    expect((await page.getByTestId('fc-tell').textContent())!.length).toBeGreaterThan(10)
    await page.getByTestId('fc-timeline').waitFor()
    await screenshot(page, 'household-laptop')
  })

  test('the reports list (Open311) with status and deadlines', async () => {
    const { page } = browser
    await page.getByRole('link', { name: 'Reports' }).click()
    await page.getByTestId('reports-table').waitFor({ timeout: 30_000 })
    // The page opens on the last 30 days' reports, newest first, a page of 100: the same page the API gives.
    const from = new Date(londonDayStart(addDays(city.today, -29))).toISOString()
    const to = new Date(londonDayStart(addDays(city.today, 1)) - 1).toISOString()
    const listed = await api<{ reportId: number; status: string }[]>(`/api/v1/reports?from=${from}&to=${to}&limit=100`)
    expect(listed.length).toBeGreaterThan(0)
    expect(await page.getByTestId('report-row').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-report'))))).toEqual(listed.map((r) => r.reportId))
    expect(await page.getByTestId('reports-counts').textContent()).toMatch(/(\d+ reports|Reports 1–\d+, newest first; on this page) · \d+ open · \d+ overdue/)
    await page.getByTestId('filter-validity').selectOption('invalid')
    // The rows shown so far stay until the filtered answer comes: wait for that answer, then for the page to draw it.
    const filtered = page.waitForResponse((r) => r.url().includes('/api/v1/reports') && r.url().includes('validity=invalid'))
    await page.getByRole('button', { name: 'Show reports' }).click()
    await filtered
    await expect.poll(async () => (await page.getByTestId('report-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-validity')))).every((v) => v === 'invalid'), { timeout: 10_000 }).toBe(true)
    await page.locator('[data-testid="report-row"]').first().or(page.getByTestId('status-empty')).waitFor()
    for (const v of await page.getByTestId('report-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-validity')))) expect(v).toBe('invalid')
    await screenshot(page, 'reports')
  })

  test('the rewards overview: the ward leaderboard for the last month', async () => {
    const { page } = browser
    await page.getByRole('link', { name: 'Rewards' }).click()
    const board = await api<{ wards: unknown[] }>(`/api/v1/rewards/leaderboard?period=${lastMonth(city.today)}`)
    if (board.wards.length > 0) {
      await page.getByTestId('leaderboard').waitFor({ timeout: 30_000 })
      expect(await page.getByTestId('leaderboard-row').count()).toBe(board.wards.length)
    } else {
      await page.getByTestId('status-empty').waitFor({ timeout: 30_000 })
    }
    await screenshot(page, 'rewards')
  })

  test('at tablet width the performance, why-missed, reports and household pages fit without sideways scrolling', async () => {
    const tablet = await openBrowser({ width: 768, height: 1024 })
    try {
      const { page } = tablet
      await signIn(page, t.httpUrl, key, '#/performance')
      await page.getByTestId('performance').waitFor({ timeout: 30_000 })
      // (A string: this file is type-checked for Node, the expression runs in the page.)
      // How far the page, or the scrolling screen under the header, reaches past the viewport (wide tables scroll in their own box).
      const overflow = () => page.evaluate<number>(`Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth,
        document.querySelector('main').scrollWidth - document.querySelector('main').clientWidth)`)
      expect(await overflow()).toBeLessThanOrEqual(0)
      await screenshot(page, 'performance-tablet')
      await page.getByRole('link', { name: 'Why missed' }).click()
      await page.getByTestId('hotspot-map').waitFor({ timeout: 30_000 })
      expect(await overflow()).toBeLessThanOrEqual(0)
      await page.getByRole('link', { name: 'Reports' }).click()
      await page.getByTestId('reports-table').waitFor({ timeout: 30_000 })
      expect(await overflow()).toBeLessThanOrEqual(0)
      const { rows } = await t.db.query<{ uprn: number }>('SELECT uprn FROM households ORDER BY uprn LIMIT 1')
      await page.goto(`${t.httpUrl}/#/households/${rows[0]!.uprn}`)
      await page.getByTestId('household-summary').waitFor({ timeout: 30_000 })
      await page.getByTestId('collection-timeline').waitFor()
      expect(await overflow()).toBeLessThanOrEqual(0)
      await screenshot(page, 'household-tablet')
    } finally {
      await tablet.close()
    }
  })
})
