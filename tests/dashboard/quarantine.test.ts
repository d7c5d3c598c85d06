// The Quarantine screen against the real API (tests/dashboard/api-server.ts seeds refused input):
// counts by reason, the entries newest first, filters by device and reason (and from a link), the
// raw payload opened as text or hex, the payload withheld from provisioning in words.
import { flushSync } from 'svelte'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { QuarantineState, reasonLabel } from '../../dashboard/src/lib/quarantine-state.svelte.ts'
import QuarantinePage from '../../dashboard/src/pages/QuarantinePage.svelte'
import { startTestApi, useOrigin, type TestApi } from './api.ts'
import { byTestId, render, text } from './render.ts'

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
  useOrigin(api.url)
}, 120_000)
afterAll(() => api?.stop())

/** Let the API answer and the page render, until `done` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    flushSync()
    if (done()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`never happened: ${what}`)
}

const rows = (root: HTMLElement) => byTestId(root, 'quarantine-row')

describe('the Quarantine page', () => {
  test('counts by reason and the entries, newest first, with what was wrong', async () => {
    const page = render(QuarantinePage, { quarantine: new QuarantineState(), apiKey: api.keys.contract_manager, query: {} })
    await until(() => rows(page).length > 0, 'rows')
    expect(rows(page)).toHaveLength(5)
    expect(text(rows(page)[0])).toContain('dash-s-8') // the CBOR frame, 20 minutes ago
    expect(text(byTestId(page, 'quarantine-counts')[0])).toBe('1–5 of 5 entries, newest first')
    const reasons = byTestId(page, 'quarantine-reason')
    expect(reasons.map((b) => b.dataset.reason)).toEqual(['schema', 'bad_encoding', 'bad_json'])
    // Three distinct payloads of the schema reason, one of them sent twice: four messages.
    expect(text(reasons[0])).toContain(`${reasonLabel('schema')} 4 messages, 3 distinct`)
    const faulty = rows(page).filter((r) => text(r).includes('dash-s-9'))
    expect(faulty.map((r) => text(r.querySelectorAll('td')[4]))).toEqual(['1', '2']) // times seen
    expect(text(faulty[1])).toContain('/fillPct must be <= 100')
    // Times in London, day first.
    expect(text(rows(page)[0])).toMatch(/\d\d\/\d\d\/\d{4}, \d\d:\d\d:\d\d/)
  })

  test('choosing a reason filters the list; a link filters by device', async () => {
    const state = new QuarantineState()
    const page = render(QuarantinePage, { quarantine: state, apiKey: api.keys.contract_manager, query: {} })
    await until(() => rows(page).length === 5, 'all rows')
    byTestId(page, 'quarantine-reason').find((b) => b.dataset.reason === 'bad_json')!.click()
    await until(() => rows(page).length === 1, 'one bad_json row')
    expect(text(rows(page)[0])).toContain('dash-s-8')
    expect(byTestId(page, 'quarantine-reason').find((b) => b.dataset.reason === 'bad_json')!.getAttribute('aria-pressed')).toBe('true')

    const linked = render(QuarantinePage, { quarantine: new QuarantineState(), apiKey: api.keys.contract_manager, query: { deviceId: 'dash-s-9' } })
    await until(() => rows(linked).length > 0 && byTestId(linked, 'quarantine-counts').length > 0, 'device rows')
    expect(rows(linked)).toHaveLength(2)
    expect(rows(linked).every((r) => text(r).includes('dash-s-9'))).toBe(true)
  })

  test('the raw payload opens as text, or in hex for a binary frame', async () => {
    const page = render(QuarantinePage, { quarantine: new QuarantineState(), apiKey: api.keys.contract_manager, query: { deviceId: 'dash-s-8' } })
    await until(() => rows(page).length === 2, 'dash-s-8 rows')
    const cbor = rows(page).find((r) => text(r).includes('reading/cbor'))!
    ;(cbor.querySelector('[data-testid="quarantine-open"]') as HTMLButtonElement).click()
    await until(() => byTestId(page, 'quarantine-payload').length === 1, 'payload shown')
    expect(text(byTestId(page, 'quarantine-payload')[0])).toBe('bf 61 00 01')
    const json = rows(page).find((r) => text(r).includes('Not JSON'))!
    ;(json.querySelector('[data-testid="quarantine-open"]') as HTMLButtonElement).click()
    await until(() => text(byTestId(page, 'quarantine-payload')[0]) === '{"seq":3,"ts":', 'text payload')
  })

  test('provisioning sees what was wrong but not the payload, and is told why', async () => {
    const page = render(QuarantinePage, { quarantine: new QuarantineState(), apiKey: api.keys.provisioning, query: { deviceId: 'dash-unit-1' } })
    await until(() => rows(page).length === 1, 'the lift row')
    ;(rows(page)[0]!.querySelector('[data-testid="quarantine-open"]') as HTMLButtonElement).click()
    await until(() => byTestId(page, 'quarantine-payload-hidden').length === 1, 'payload withheld')
    expect(page.textContent).not.toContain('E200001722110144189DASH')
    expect(text(byTestId(page, 'quarantine-payload-hidden')[0])).toMatch(/Your role does not see payloads/)
  })

  test('the viewer is refused in words', async () => {
    const page = render(QuarantinePage, { quarantine: new QuarantineState(), apiKey: api.keys.viewer, query: {} })
    await until(() => byTestId(page, 'status-error').length === 1, 'an error')
    expect(text(byTestId(page, 'status-error')[0])).toMatch(/Your role cannot open this/)
  })
})
