// The OpenAPI document as other people's tools read it: Redocly's linter (@redocly/cli, the pinned
// devDependency, its recommended rules) finds no error and no warning in /docs/json, and the same
// linter does complain about the faults it was fixed for, so the check can fail.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import { operationIdOf } from '../../api/openapi-document.ts'
import { silentLogger } from '../../core/log.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'

const REDOCLY = join(import.meta.dirname, '..', '..', 'node_modules', '@redocly', 'cli', 'bin', 'cli.js')
interface Problem { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }
type Doc = { paths: Record<string, Record<string, Record<string, unknown>>>; components: { schemas: Record<string, Record<string, unknown>> } } & Record<string, unknown>

let db: Database
let app: Api
let dir: string
let doc: Doc

/** Redocly's findings on a document, as rule, severity and where. */
async function lint(document: unknown): Promise<string[]> {
  const file = join(dir, `doc-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(file, JSON.stringify(document))
  const run = await promisify(execFile)(process.execPath, [REDOCLY, 'lint', file, '--format=json'], {
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024,
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
  const { problems } = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as { problems: Problem[] }
  return problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kerbside-openapi-'))
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: 'admin-key-for-the-openapi-lint-test-0' })
  doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<Doc>()
})
afterAll(async () => {
  await app?.close()
  await db?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the OpenAPI document', () => {
  test('redocly lint (recommended rules): no errors, no warnings', async () => {
    expect(await lint(doc)).toEqual([])
  }, 60_000)

  test('every operation has a unique operationId derived from method and path, servers and a licence', () => {
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })))
    expect(ops.length).toBeGreaterThan(50)
    for (const { path, method, op } of ops) expect(op.operationId, `${method} ${path}`).toBe(operationIdOf(method, path))
    expect(new Set(ops.map((o) => o.op.operationId)).size).toBe(ops.length)
    expect(operationIdOf('get', '/open311/v2/requests/{service_request_id}.{format}')).toBe('getOpen311V2RequestsByServiceRequestIdByFormat')
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })])
    expect(doc.info).toMatchObject({ license: { name: 'Apache-2.0' } })
    expect(doc.paths['/healthz']!.get!.security).toEqual([])
    expect(doc.paths['/open311/v2/requests.{format}']!.get!.security).toEqual([{}, { apiKey: [] }])
  })

  test('the linter does find the faults the document was fixed for', async () => {
    const broken = structuredClone(doc)
    delete broken.paths['/healthz']!.get!.security
    delete broken.paths['/healthz']!.get!.operationId
    broken.components.schemas.Device!.properties = { bounds: { type: 'array', items: [{ type: 'number' }, { type: 'number' }], additionalItems: false } }
    const found = (await lint(broken)).join('\n')
    expect(found).toMatch(/security-defined .*healthz/)
    expect(found).toMatch(/operation-operationId .*healthz/)
    expect(found).toMatch(/error struct .*Device/)
  }, 60_000)
})
