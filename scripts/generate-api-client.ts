// The API client's source of truth, written from the app itself: the OpenAPI document as /docs/json
// serves it (built in-process on an in-memory embedded database, no server listening) and the
// TypeScript types openapi-typescript generates from it, which the dashboard and the CLI call the
// API through (openapi-fetch). `npm run generate:client` writes both; `npm run check:client-drift`
// (`--check`) writes nothing and fails when the committed files differ from what the current routes
// produce, so a route changed without regenerating is caught in CI.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import openapiTS, { astToString, COMMENT_HEADER, transformSchemaObject, type OpenAPITSOptions } from 'openapi-typescript'
import ts from 'typescript'
import { Registry } from 'prom-client'
import { buildApi } from '../api/build-api.ts'
import { silentLogger } from '../core/log.ts'
import { openDatabase } from '../storage/open-database.ts'

const ROOT = join(import.meta.dirname, '..')
export const DOCUMENT_FILE = join(ROOT, 'api', 'client', 'openapi.json')
export const TYPES_FILE = join(ROOT, 'api', 'client', 'openapi-types.ts')

/** The document and the generated types, as text, from the routes as they are now. */
export async function generateClientFiles(): Promise<{ document: string; types: string }> {
  const db = await openDatabase({ logger: silentLogger })
  try {
    const app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: 'generate-api-client-admin-key-000000' })
    try {
      const res = await app.inject({ method: 'GET', url: '/docs/json' })
      if (res.statusCode !== 200) throw new Error(`GET /docs/json answered ${res.statusCode}: ${res.body}`)
      const doc = res.json<Record<string, unknown>>()
      const document = `${JSON.stringify(doc, null, 2)}\n`
      const ast = await openapiTS(doc as Parameters<typeof openapiTS>[0], { silent: true, alphabetize: true, defaultNonNullable: false, transform: tuples })
      const header = `${COMMENT_HEADER.trimEnd()}\n// Generated from api/client/openapi.json by \`npm run generate:client\` (scripts/generate-api-client.ts).\n\n`
      return { document, types: header + astToString(ast) }
    } finally {
      await app.close()
    }
  } finally {
    await db.close()
  }
}

/**
 * JSON Schema 2020-12 tuples (`prefixItems` with `items: false`, as api/openapi-document.ts writes
 * TypeBox's) as TypeScript tuples: openapi-typescript 7 reads only `items`, and would make them arrays.
 */
const tuples: OpenAPITSOptions['transform'] = (schema, options) => {
  const s = schema as { prefixItems?: unknown[]; items?: unknown }
  if (!Array.isArray(s.prefixItems) || s.items !== false) return undefined
  return ts.factory.createTupleTypeNode(s.prefixItems.map((item, i) => transformSchemaObject(item as Parameters<typeof transformSchemaObject>[0], { ...options, path: `${options.path}/prefixItems/${i}` })))
}

function readOrEmpty(file: string): string {
  try { return readFileSync(file, 'utf8') } catch { return '' }
}

/** The first line where two texts differ, for the drift message. */
function firstDifference(a: string, b: string): string {
  const al = a.split('\n')
  const bl = b.split('\n')
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}:\n  committed: ${al[i] ?? '(end of file)'}\n  generated: ${bl[i] ?? '(end of file)'}`
  }
  return ''
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check')
  const files = await generateClientFiles()
  const targets: [string, string][] = [[DOCUMENT_FILE, files.document], [TYPES_FILE, files.types]]
  if (check) {
    const drifted = targets.filter(([file, text]) => readOrEmpty(file) !== text)
    for (const [file, text] of drifted) console.error(`${relative(ROOT, file)} differs from what the current API produces, ${firstDifference(readOrEmpty(file), text)}`)
    if (drifted.length > 0) {
      console.error('The generated API client is out of date: run `npm run generate:client` and commit the result.')
      process.exit(1)
    }
    console.log('The generated API client matches the API (api/client/openapi.json, api/client/openapi-types.ts).')
    return
  }
  for (const [file, text] of targets) {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, text)
    console.log(`wrote ${relative(ROOT, file)} (${text.length.toLocaleString('en-GB')} characters)`)
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await main()
