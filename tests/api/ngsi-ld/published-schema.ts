// The published FIWARE WasteContainer schema (Smart Data Models 0.3.0, JSON Schema 2020-12), checked
// with ajv as it is: its $refs to the common schema's public URL resolve to the local copy beside it,
// so nothing is fetched.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import ajv2020 from 'ajv/dist/2020.js'
import ajvFormats from 'ajv-formats'

// Both are CommonJS modules whose exports object is also their `default` (fastify ships them).
const Ajv2020 = ajv2020.default
const addFormats = ajvFormats.default

export const STANDARD_DIR = '/work/shared/standards/fiware-waste-container'
const read = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(STANDARD_DIR, file), 'utf8')) as Record<string, unknown>

export function wasteContainerValidator(): (entity: unknown) => string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  addFormats(ajv)
  // common-schema.json carries its public $id; registering it answers every $ref to that URL.
  ajv.addSchema(read('common-schema.json'))
  const validate = ajv.compile(read('schema.json'))
  return (entity) => (validate(entity) ? [] : (validate.errors ?? []).map((e: { instancePath: string; message?: string }) => `${e.instancePath || '(entity)'} ${e.message ?? ''}`))
}

export const publishedExample = (file: 'example.json' | 'example-normalized.jsonld') => read(file)
