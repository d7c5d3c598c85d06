// The demo's folder: kept across restarts, emptied with --reset, never taken over when it is not a
// demo's, and an older demo's folder (wiped at every start then) started afresh.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { MARKER, prepareDemoFolder, readMarker, writeMarker } from '../../cli/demo-folder.ts'

const root = mkdtempSync(join(tmpdir(), 'kerbside-demo-folder-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

test('a new folder gets a marker; a restart keeps the folder and what the marker holds; --reset empties it', () => {
  const dir = join(root, 'demo')
  const first = prepareDemoFolder(dir, { reset: false })
  expect(first.city).toBeUndefined()
  writeMarker(dir, { ...first, city: { seed: 1, households: 400, start: '2026-11-01' }, demoUser: { username: 'demo', password: 'p' } })
  writeFileSync(join(dir, 'data.bin'), 'x')
  const again = prepareDemoFolder(dir, { reset: false })
  expect(again.city?.households).toBe(400)
  expect(again.demoUser?.password).toBe('p')
  expect(readdirSync(dir)).toContain('data.bin')
  const reset = prepareDemoFolder(dir, { reset: true })
  expect(reset.city).toBeUndefined()
  expect(readdirSync(dir)).toEqual([MARKER])
})

test('a folder that is not a demo\'s is refused, and left alone', () => {
  const dir = join(root, 'mine')
  mkdirSync(dir)
  writeFileSync(join(dir, 'precious.txt'), 'keep')
  expect(() => prepareDemoFolder(dir, { reset: true })).toThrow(/is not a demo folder/)
  expect(readdirSync(dir)).toEqual(['precious.txt'])
})

test('an older demo\'s folder (a marker with no city, and data) is started afresh', () => {
  const dir = join(root, 'older')
  mkdirSync(dir)
  writeFileSync(join(dir, MARKER), JSON.stringify({ createdAt: '2026-12-01T00:00:00Z', note: 'deleted at the next demo start' }))
  mkdirSync(join(dir, 'pgdata'))
  prepareDemoFolder(dir, { reset: false })
  expect(readdirSync(dir)).toEqual([MARKER])
  expect(readMarker(dir)?.note).toMatch(/kept across restarts/)
})
