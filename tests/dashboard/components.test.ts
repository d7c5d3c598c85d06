// Components only render what they are given and report what people do.
import { flushSync } from 'svelte'
import { expect, test } from 'vitest'
import AlertsPanel from '../../dashboard/src/components/AlertsPanel.svelte'
import AppNav from '../../dashboard/src/components/AppNav.svelte'
import DevicesTable from '../../dashboard/src/components/DevicesTable.svelte'
import EventFeed from '../../dashboard/src/components/EventFeed.svelte'
import FillChart from '../../dashboard/src/components/FillChart.svelte'
import HouseholdDetails from '../../dashboard/src/components/HouseholdDetails.svelte'
import LiveBadge from '../../dashboard/src/components/LiveBadge.svelte'
import MapLegend from '../../dashboard/src/components/MapLegend.svelte'
import SignInForm from '../../dashboard/src/components/SignInForm.svelte'
import StatusMessage from '../../dashboard/src/components/StatusMessage.svelte'
import type { DeviceListItem } from '../../dashboard/src/lib/api-types.ts'
import { FILL_BANDS } from '../../dashboard/src/lib/fill-bands.ts'
import { ROUTES } from '../../dashboard/src/lib/router.svelte.ts'
import { byTestId, render, text } from './render.ts'

test('sign-in: a username and password by default, an API key after switching; a refusal is an alert tied to the fields', () => {
  const passwords: string[][] = []
  const keys: string[] = []
  const root = render(SignInForm, { checking: false, error: null, onpassword: (u: string, p: string) => passwords.push([u, p]), onkey: (k: string) => keys.push(k) })
  const type = (sel: string, value: string) => {
    const input = root.querySelector<HTMLInputElement>(sel)!
    input.value = value
    input.dispatchEvent(new Event('input', { bubbles: true }))
    return input
  }
  const submit = () => root.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }))
  expect(root.querySelector('#api-key')).toBeNull()
  expect(type('#password', 'secret words').type).toBe('password')
  type('#username', 'morgan')
  submit()
  expect(passwords).toEqual([['morgan', 'secret words']])

  byTestId(root, 'sign-in-switch')[0]!.click()
  flushSync()
  expect(byTestId(root, 'sign-in-form')[0]!.dataset.mode).toBe('key')
  expect(root.querySelector('#username')).toBeNull()
  expect(type('#api-key', 'ks_abc').type).toBe('password')
  submit()
  expect(keys).toEqual(['ks_abc'])
  expect(passwords).toHaveLength(1)

  const refused = render(SignInForm, { checking: true, error: 'That API key was not accepted (401).', onpassword: () => undefined, onkey: () => undefined, mode: 'key' })
  const error = byTestId(refused, 'sign-in-error')[0]!
  expect(error.getAttribute('role')).toBe('alert')
  expect(refused.querySelector('#api-key')!.getAttribute('aria-describedby')).toBe('sign-in-error')
  expect(refused.querySelector<HTMLButtonElement>('button[type="submit"]')!.disabled).toBe(true)
})

test('navigation marks the current screen', () => {
  const root = render(AppNav, { items: ROUTES, current: 'devices', href: (id: string) => `#/${id}` })
  const links = [...root.querySelectorAll('a')]
  expect(links.map((a) => a.textContent)).toEqual(['Map', 'Performance', 'Why missed', 'Households', 'Reports', 'Rewards', 'Devices', 'Quarantine'])
  expect(links.filter((a) => a.getAttribute('aria-current') === 'page').map((a) => a.textContent)).toEqual(['Devices'])
  expect(links[0]!.getAttribute('href')).toBe('#/map')
})

test('status messages: loading, empty and error (with a retry)', () => {
  let retried = 0
  const root = render(StatusMessage, { kind: 'error', title: 'The map could not be loaded', message: 'Kerbside could not be reached.', onretry: () => retried++ })
  const box = byTestId(root, 'status-error')[0]!
  expect(box.getAttribute('role')).toBe('alert')
  expect(text(box)).toContain('Kerbside could not be reached.')
  root.querySelector('button')!.click()
  expect(retried).toBe(1)
  expect(byTestId(render(StatusMessage, { kind: 'loading', title: 'Loading…' }), 'status-loading')[0]!.getAttribute('role')).toBe('status')
})

test('the live badge says its state in words', () => {
  expect(text(render(LiveBadge, { status: 'open' }))).toBe('Live')
  expect(text(render(LiveBadge, { status: 'reconnecting', retryInMs: 2500 }))).toBe('Reconnecting in 3 s')
  expect(text(render(LiveBadge, { status: 'stopped' }))).toBe('Not live')
})

test('alerts: counts by kind, filter buttons, rows that open their household, and empty states', () => {
  const picked: number[] = []
  const filters: string[] = []
  const kinds = [{ kind: 'fire' as const, label: 'Fire', count: 1 }, { kind: 'overflow' as const, label: 'Overflowing', count: 1 }]
  const rows = [
    { key: 'fire:3', kind: 'fire' as const, label: 'Fire', detail: '72 °C', where: 'Test Street · recycling · bin-2', household: 1 },
    { key: 'overflow:1', kind: 'overflow' as const, label: 'Overflowing', detail: '95 % full', where: 'Test Street · residual · bin-1', household: 0 },
  ]
  const root = render(AlertsPanel, { kinds, rows, total: 2, filter: 'all', onfilter: (k: string) => filters.push(k), onselect: (h: number) => picked.push(h) })
  const buttons = byTestId(root, 'alert-row')
  expect(buttons.map((b) => b.dataset.kind)).toEqual(['fire', 'overflow'])
  expect(text(buttons[0])).toContain('72 °C')
  buttons[1]!.click()
  expect(picked).toEqual([0])
  byTestId(root, 'alert-filter-fire')[0]!.click()
  expect(filters).toEqual(['fire'])
  expect(root.querySelector('[aria-pressed="true"]')!.textContent).toBe('All')
  expect(text(render(AlertsPanel, { kinds, rows: [], total: 0, filter: 'all', onfilter: () => undefined, onselect: () => undefined }))).toContain('No alerts')
})

test('lifts feed: newest first with outcome and place; an empty window says so', () => {
  const events = [
    { key: 'a', ts: Date.UTC(2026, 10, 20, 12, 5), outcome: 'not_presented', vehicleId: 'rcv-1', binId: null, uprn: 1, tag: 'TAG-1', street: 'Test Street', lat: 53.4, lon: -2.9, weightKg: null, live: true },
    { key: 'b', ts: Date.UTC(2026, 10, 20, 12, 0), outcome: 'collected', vehicleId: 'rcv-1', binId: 'bin-2', uprn: 2, tag: null, street: null, lat: 53.4, lon: -2.9, weightKg: 12, live: false },
  ]
  const selected: number[][] = []
  const root = render(EventFeed, { events, hours: 6, onselect: (lat: number, lon: number) => selected.push([lat, lon]) })
  const rows = byTestId(root, 'event')
  expect(rows.map((r) => r.dataset.outcome)).toEqual(['not_presented', 'collected'])
  expect(text(rows[0])).toContain('Not presented')
  expect(text(rows[0])).toContain('Test Street · TAG-1 · rcv-1')
  expect(text(rows[1])).toContain('UPRN 2')
  rows[0]!.click()
  expect(selected).toEqual([[53.4, -2.9]])
  expect(text(render(EventFeed, { events: [], hours: 6, onselect: () => undefined }))).toContain('No lifts in the last 6 hours')
})

test('devices: household, online state in words, last seen, battery and refused messages', () => {
  const now = Date.parse('2026-11-20T12:00:00Z')
  const base = {
    binId: null, vehicleId: null, createdAt: '2026-11-01T00:00:00Z', revokedAt: null, lastSeq: null, lastTs: null, online: null, onlineSince: null,
    devEui: null, uprn: null, address: null, postcode: null, batteryV: null, quarantinedAt: null,
  }
  const devices: DeviceListItem[] = [
    { ...base, deviceId: 's-1', kind: 'bin', binId: 'bin-1', online: true, lastSeq: 42, lastTs: '2026-11-20T11:50:00Z', uprn: 100000000001, address: '1 Test Street', postcode: 'L1 1AA', batteryV: 3.61 },
    { ...base, deviceId: 's-2', kind: 'bin', binId: 'bin-2', online: false, lastTs: '2026-11-20T07:00:00Z', devEui: 'A84041000181C3D5', postcode: 'L1 1AA', batteryV: 3.1, quarantinedAt: '2026-11-20T11:00:00Z' },
    { ...base, deviceId: 'unit-1', kind: 'vehicle', vehicleId: 'rcv-1' },
    { ...base, deviceId: 'lw-1', kind: 'bin', binId: 'bin-3', devEui: 'A84041000181C3D6', lastTs: '2026-11-20T11:30:00Z' },
    { ...base, deviceId: 'lw-2', kind: 'bin', binId: 'bin-4', devEui: 'A84041000181C3D7' },
  ]
  const root = render(DevicesTable, { devices, now })
  const rows = byTestId(root, 'device-row').map((r) => [...r.children].map(text))
  expect(rows).toEqual([
    ['s-1', 'Bin sensor', 'bin-1', '1 Test Street, L1 1AAUPRN 100000000001', 'online', '10 min ago', '3.61 V', '—'],
    // A role that may not see addresses gets the postcode only; a LoRaWAN sensor shows its DevEUI.
    ['s-2DevEUI A84041000181C3D5', 'Bin sensor', 'bin-2', 'L1 1AA', 'offline', '5 h ago', '3.10 V low', '1 h ago'],
    ['unit-1', 'Vehicle unit', 'rcv-1', '—', 'never connected', 'never', '—', '—'],
    // LoRaWAN sensors hold no MQTT connection: heard through the network server, or not yet.
    ['lw-1DevEUI A84041000181C3D6', 'Bin sensor', 'bin-3', '—', 'via LoRaWAN', '30 min ago', '—', '—'],
    ['lw-2DevEUI A84041000181C3D7', 'Bin sensor', 'bin-4', '—', 'never heard', 'never', '—', '—'],
  ])
})

test('household details list its bins with fill, last reading, sensor and alerts', () => {
  const now = Date.parse('2026-11-20T12:00:00Z')
  const bins = [
    { binId: 'bin-1', stream: 'residual', fillPct: 95, readingAt: now - 120_000, status: 'ok', tempC: 10, batteryV: 3.6, online: true, hasSensor: true, alerts: ['overflow'] },
    { binId: 'bin-2', stream: 'garden', fillPct: null, readingAt: null, status: null, tempC: null, batteryV: null, online: null, hasSensor: false, alerts: [] },
  ]
  let closed = 0
  const root = render(HouseholdDetails, { uprn: 100000000001, street: 'Test Street', ward: 'Central', bins, now, onclose: () => closed++ })
  expect(text(root)).toContain('UPRN 100000000001')
  expect(text(root)).toContain('Test Street, Central')
  expect(text(root)).toContain('95 %')
  expect(text(root)).toContain('Alerts: Overflowing')
  expect(text(root)).toContain('none')
  root.querySelector<HTMLButtonElement>('button[aria-label="Close household details"]')!.click()
  expect(closed).toBe(1)
})

test('legend and chart carry the figures in text, not only in colour', () => {
  const counts = [1, 2, 3, 4, 5]
  const legend = render(MapLegend, { bands: FILL_BANDS, counts, caption: 'Fullest bin per household' })
  expect([...legend.querySelectorAll('li')].map((li) => [...li.childNodes].map((n) => text(n as Element)).filter(Boolean))).toContainEqual(['90 % or more', '5'])
  const chart = render(FillChart, { title: 'Households by fill', labels: FILL_BANDS.map((b) => b.label), colours: FILL_BANDS.map((b) => b.colour), counts })
  const cells = [...chart.querySelectorAll('table td')].map((td) => td.textContent)
  expect(cells).toEqual(['1', '2', '3', '4', '5'])
  flushSync()
})
