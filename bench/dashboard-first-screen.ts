// How long the dashboard's map takes to become usable for a city of a given size, in Debian's
// Chromium against a running Kerbside on the embedded database, with a fresh browser profile per run;
// what each opening downloads; the browser tab's memory; when the first live lift is on screen; and
// how long pans and zooms across the city take to be drawn. Prints figures; asserts nothing.
//
//   node --import tsx bench/dashboard-first-screen.ts [households] [runs]      (npm run bench:dashboard -- 210000)
//
// "Usable": the overview is in (figures, alerts, lifts on screen), the map's first tiles are drawn,
// and the page's main thread answers again. "Map drawn": every tile of the view is in and drawn.
// "Live lift": published over MQTT by a real vehicle-unit client, until its row is on screen.
// Screenshots of the map at city zoom and at street zoom go to artifacts/ (not committed).
import { readFileSync, readdirSync } from 'node:fs'
import { request } from 'node:http'
import { availableParallelism, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Page } from 'playwright-core'
import { createApiKey } from '../storage/api-keys.ts'
import { connectDevice, provision, startTestStack } from '../tests/helpers/stack.ts'
import { seedCity } from '../tests/helpers/seed-city.ts'
import { ensureDashboardBuilt, openBrowser, screenshot } from '../tests/e2e/browser.ts'
import { rebuildLatestState } from '../storage/latest-state.ts'

const households = Number(process.argv[2] ?? 20_000)
const runs = Number(process.argv[3] ?? 3)

interface Timing { domContentLoaded: number; overviewIn: number; drawn: number; usable: number; mapBytes: number; mapRequests: number; drawnHouseholds: number }

ensureDashboardBuilt()
const t = await startTestStack()
try {
  let started = performance.now()
  const city = await seedCity(t.db, { households, vehicles: 12, recentLifts: 3000 })
  await t.db.query(`INSERT INTO vehicle_positions (ts, device_id, seq, vehicle_id, lat, lon, speed_kmh, heading)
    SELECT now() - interval '1 minute', 'seed-unit-' || v.vehicle_id, 1, v.vehicle_id, h.lat, h.lon, 12, 90
      FROM vehicles v JOIN LATERAL (SELECT lat, lon FROM households ORDER BY uprn OFFSET (random() * $1)::int LIMIT 1) h ON true`, [households - 1])
  await rebuildLatestState(t.db) // seeded history bypassed ingest
  console.log(`seeded ${city.households.toLocaleString('en-GB')} households, ${city.bins.toLocaleString('en-GB')} bins with sensors and readings, ${city.streets} streets, ${city.vehicles.length} vehicles, 3,000 recent lifts in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  const key = (await createApiKey(t.db, 'bench', 'contract_manager')).key
  const secret = await provision(t.db, 'unit-bench', 'vehicle', { vehicleId: city.vehicles[0]! })
  const unit = await connectDevice(t.mqttUrl, 'unit-bench', secret)
  const { rows: [middle] } = await t.db.query<{ lat: number; lon: number }>('SELECT lat, lon FROM households WHERE uprn = $1', [city.firstUprn + Math.floor(households / 2)])

  started = performance.now()
  const o = await rawGet(`${t.httpUrl}/api/v1/map/overview`, { authorization: `Bearer ${key}`, 'accept-encoding': 'identity' })
  console.log(`snapshot and overview built: ${Math.round(performance.now() - started)} ms; GET /api/v1/map/overview ${(o.bytes / 1024).toFixed(0)} KiB`)
  started = performance.now()
  const whole = await rawGet(`${t.httpUrl}/api/v1/map`, { authorization: `Bearer ${key}`, 'accept-encoding': 'gzip' })
  console.log(`for comparison, the whole-city GET /api/v1/map (no longer used by the dashboard): ${(whole.bytes / 1024).toFixed(0)} KiB gzip, ${Math.round(performance.now() - started)} ms`)

  const timings: Timing[] = []
  const lifts: number[] = []
  const moves: number[] = []
  const memory: { heapMb: number; tabMb: number }[] = []
  let seq = 1
  for (let run = 0; run < runs; run++) {
    const browser = await openBrowser() // a fresh profile: nothing cached
    try {
      // Signed in already (the key in this tab's sessionStorage): the bench measures the map, not typing.
      await browser.context.addInitScript(`sessionStorage.setItem('kerbside.apiKey', ${JSON.stringify(key)})`)
      const { page } = browser
      await page.goto(`${t.httpUrl}/#/map`)
      await page.locator('canvas.city-canvas[data-drawn]').waitFor({ timeout: 60_000 })
      await page.getByTestId('alerts-panel').waitFor()
      // Evaluated once the main thread is free again: the page answers input from here on.
      // (A string: this file is type-checked for Node, the function runs in the page.)
      const timing = await page.evaluate<Timing>(`(() => {
        const nav = performance.getEntriesByType('navigation')[0]
        const map = performance.getEntriesByType('resource').filter((e) => /\\/api\\/v1\\/map\\//.test(e.name))
        const overview = map.find((e) => /\\/map\\/overview/.test(e.name))
        const canvas = document.querySelector('canvas.city-canvas')
        return { domContentLoaded: nav.domContentLoadedEventEnd, overviewIn: overview ? overview.responseEnd : NaN, drawn: Number(canvas.dataset.drawnAt), usable: performance.now(),
                 mapBytes: map.reduce((n, e) => n + e.transferSize, 0), mapRequests: map.length, drawnHouseholds: Number(canvas.dataset.drawn) }
      })()`)
      timings.push(timing)
      console.log(`run ${run + 1}: DOMContentLoaded ${ms(timing.domContentLoaded)}, overview in ${ms(timing.overviewIn)}, map drawn ${ms(timing.drawn)}, usable ${ms(timing.usable)}; ${timing.mapRequests} map requests, ${(timing.mapBytes / 1024).toFixed(0)} KiB (${timing.drawnHouseholds.toLocaleString('en-GB')} households drawn)`)
      if (run === 0) await screenshot(page, 'bench-map-city-zoom')

      // The first live lift: published by a real vehicle unit, until its row is on screen.
      const tag = `BENCH-${run}`
      const t0 = performance.now()
      await unit.publishAsync('kerbside/v1/vehicles/unit-bench/lift', JSON.stringify({ seq: seq++, ts: new Date().toISOString(), tag, lat: middle!.lat, lon: middle!.lon, outcome: 'collected' }), { qos: 1 })
      await page.locator(`[data-testid="event"][data-tag="${tag}"]`).waitFor({ timeout: 30_000 })
      lifts.push(performance.now() - t0)

      // Across the city: zoom in step by step to street zoom on the middle of the city, pan along, zoom out again.
      const steps: number[] = []
      await page.getByTestId('city-map').focus()
      const keys = [...Array(5).fill('Equal'), ...Array(4).fill('ArrowRight'), ...Array(3).fill('ArrowDown'), ...Array(5).fill('Minus')] as string[]
      for (const k of keys) steps.push(await step(page, k))
      if (run === 0) {
        for (let i = 0; i < 5; i++) await step(page, 'Equal')
        await screenshot(page, 'bench-map-street-zoom')
      }
      moves.push(...steps)
      console.log(`run ${run + 1}: live lift on screen ${ms(lifts[lifts.length - 1]!)}; pan/zoom steps drawn in ${steps.map((s) => Math.round(s)).join(', ')} ms`)

      const cdp = await browser.context.newCDPSession(page)
      await cdp.send('Performance.enable')
      const { metrics } = await cdp.send('Performance.getMetrics')
      const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN
      memory.push({ heapMb: heap / 2 ** 20, tabMb: rendererMb() })
      console.log(`run ${run + 1}: JS heap ${memory[memory.length - 1]!.heapMb.toFixed(0)} MB, tab (renderer process, PSS) ${memory[memory.length - 1]!.tabMb.toFixed(0)} MB`)
    } finally {
      await browser.close()
    }
  }
  await unit.endAsync()
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const load = loadavg().map((l) => l.toFixed(1)).join(' / ')
  console.log(`\n${households.toLocaleString('en-GB')} households, median of ${runs} runs (fresh Chromium profile each), machine ${availableParallelism()} cores, load average ${load} (1 / 5 / 15 min) at the end:`)
  console.log(`  first screen usable ${ms(median(timings.map((x) => x.usable)))} (target < 2,500 ms); map fully drawn ${ms(median(timings.map((x) => x.drawn)))} (target < 4,000 ms)`)
  console.log(`  first live lift on screen ${ms(median(lifts))} after publishing; pan/zoom step drawn: median ${ms(median(moves))}, slowest ${ms(Math.max(...moves))} (${moves.length} steps)`)
  console.log(`  tab memory (renderer PSS) ${median(memory.map((m) => m.tabMb)).toFixed(0)} MB (target < 500 MB), JS heap ${median(memory.map((m) => m.heapMb)).toFixed(0)} MB`)
  console.log(`  map payload per opening: ${(median(timings.map((x) => x.mapBytes)) / 1024).toFixed(0)} KiB in ${median(timings.map((x) => x.mapRequests))} requests (overview + the view's tiles)`)
} finally {
  await t.close()
}

/** Press a key on the map and wait until every tile of the new view is drawn; ms. */
async function step(page: Page, key: string): Promise<number> {
  const canvas = page.locator('canvas.city-canvas')
  const before = Number(await canvas.getAttribute('data-complete-draws'))
  const t0 = performance.now()
  await page.keyboard.press(key)
  // Polled from here: the page's content security policy forbids evaluating strings in it (waitForFunction).
  while (performance.now() - t0 < 30_000) {
    const [draws, complete] = await Promise.all([canvas.getAttribute('data-complete-draws'), canvas.getAttribute('data-complete')])
    if (Number(draws) > before && complete === 'true') return performance.now() - t0
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`the map was not drawn within 30 s of pressing ${key}`)
}

/** The largest Chromium renderer process's proportional set size (the map tab; helpers are small), MB. */
function rendererMb(): number {
  let largest = 0
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (!cmd.includes('chromium') || !cmd.includes('--type=renderer')) continue
      const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
      if (pss) largest = Math.max(largest, Number(pss[1]) / 1024)
    } catch {
      // gone meanwhile
    }
  }
  return largest
}

/** Bytes as they travel (Node's fetch would decompress them). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => { bytes += chunk.length })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }))
      res.on('error', reject)
    }).on('error', reject).end()
  })
}

function ms(v: number): string {
  return Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-GB')} ms` : 'n/a'
}
