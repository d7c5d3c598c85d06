// Registry import and export. An import is all or nothing: 200 with the report when it was
// written (or, with dryRun, would be), 422 with the same report listing every error when nothing
// was. Also mounts the round and calendar reads that hang off the registry.
import { Readable } from 'node:stream'
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifySchemaCompiler } from 'fastify'
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js'
import { TypeBoxValidatorCompiler, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { RegistryDataset, REGISTRY_ENTITIES } from '../../core/contract/registry.ts'
import type { Database } from '../../storage/database.ts'
import { ImportBusyError, importCsv, importRegistry } from '../../storage/registry/import.ts'
import { ImportReport } from '../../storage/registry/report.ts'
import { Errors } from '../schemas/common.ts'
import { httpError } from '../errors.ts'
import { calendarRoutes } from './calendar.ts'
import { roundRoutes } from './rounds.ts'
import { exportCsvFor, exportJsonFor } from './registry-export.ts'

/** A Liverpool-sized registry as JSON is ~160 MB; the API's default 1 MiB body limit is for everything else. */
export const IMPORT_BODY_LIMIT = 512 * 1024 * 1024

/** Validation of everything but the body, which the import checks itself. */
const bodyLeftToImport: FastifySchemaCompiler<unknown> = (route) => route.httpPart === 'body' ? () => true : TypeBoxValidatorCompiler(route as FastifyRouteSchemaDef<TSchema>)

const Entity = Type.Union(REGISTRY_ENTITIES.map((e) => Type.Literal(e)), { description: 'Registry entity (CSV file)' })

export const registryRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  // CSV bodies arrive as text; scoped to this plugin.
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) => done(null, body))
  app.addSchema(RegistryDataset)
  app.addSchema(ImportReport)

  app.post('/registry/import', {
    onRequest: app.requireRole('admin'),
    bodyLimit: IMPORT_BODY_LIMIT,
    // The import checks bodies itself and reports every error with its row; ajv would stop at the
    // first. Query strings are checked (and converted) against their schema as usual.
    validatorCompiler: bodyLeftToImport,
    schema: {
      tags: ['registry'],
      summary: 'Import the registry (all or nothing)',
      description: 'JSON: the whole RegistryDataset (any subset of its lists). CSV: one entity per request, `?entity=households` etc., with a header row of the entity\'s field names. Rows are upserted by key; a round listed in roundStops gets exactly the stops given. Nothing is written unless every row is valid; the report lists every error with its entity, row and field. `dryRun=true` checks and rehearses the import without keeping anything. After a successful import the collection calendar is brought up to date.',
      security: [{ apiKey: [] }],
      querystring: Type.Object({
        entity: Type.Optional(Entity),
        dryRun: Type.Optional(Type.Boolean({ default: false })),
      }),
      body: { content: { 'application/json': { schema: Type.Ref('RegistryDataset') }, 'text/csv': { schema: Type.String({ description: 'One entity as CSV' }) } } },
      response: { 200: Type.Ref('ImportReport'), 422: Type.Ref('ImportReport'), 409: Type.Ref('Error'), 413: Type.Ref('Error'), 415: Type.Ref('Error'), ...Errors },
    },
  }, async (req, reply) => {
    const dryRun = req.query.dryRun === true
    const opts = { dryRun, onProgress: progressLogger(req.log) }
    const csv = typeof req.body === 'string' ? req.body : null
    const entity = req.query.entity
    if (csv !== null && !entity) throw httpError(400, 'KERBSIDE_ERR_ENTITY_REQUIRED', `A CSV body holds one entity: add ?entity= one of ${REGISTRY_ENTITIES.join(', ')}.`)
    if (csv === null && entity) throw httpError(400, 'KERBSIDE_ERR_ENTITY_WITH_JSON', '?entity= is for CSV bodies; a JSON body names its entities itself.')
    let report
    try {
      report = csv !== null && entity ? await importCsv(db, { [entity]: csv }, opts) : await importRegistry(db, req.body as RegistryDataset, opts)
    } catch (err) {
      if (err instanceof ImportBusyError) throw httpError(409, err.name, err.message)
      throw err
    }
    req.log.info({ ok: report.ok, dryRun, errors: report.errors.length, counts: report.counts, ms: report.ms, by: req.caller?.keyId }, 'registry import')
    return reply.code(report.ok ? 200 : 422).send(report)
  })

  app.get('/registry/export', {
    onRequest: app.requireRole('admin', 'contract_manager', 'viewer'),
    schema: {
      tags: ['registry'],
      summary: 'Export the registry as JSON, or one entity as CSV',
      description: 'Streams the registry page by page. JSON is the RegistryDataset that the import reads; CSV needs `entity` and has the columns the import reads. Personal fields (house address, position, assisted flag, RFID tags, CRM references) are in the export for admin only; contract_manager and viewer get the rest (docs/data-protection.md, "Who sees what"). Every export is written to the audit log with its row count.',
      security: [{ apiKey: [] }],
      querystring: Type.Object({
        format: Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' }),
        entity: Type.Optional(Entity),
      }),
      response: {
        200: { description: 'The registry', content: { 'application/json': { schema: Type.Ref('RegistryDataset') }, 'text/csv': { schema: Type.String() } } },
        ...Errors,
      },
    },
  }, async (req, reply) => {
    const { format, entity } = req.query
    if (format === 'csv') {
      if (!entity) throw httpError(400, 'KERBSIDE_ERR_ENTITY_REQUIRED', `CSV holds one entity: add &entity= one of ${REGISTRY_ENTITIES.join(', ')}.`)
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${entity}.csv"`).send(Readable.from(exportCsvFor(db, req, reply.raw, entity)))
    }
    if (entity) throw httpError(400, 'KERBSIDE_ERR_ENTITY_WITH_JSON', 'JSON exports the whole registry; leave out entity, or ask for format=csv.')
    return reply.type('application/json; charset=utf-8').header('content-disposition', 'attachment; filename="registry.json"').send(Readable.from(exportJsonFor(db, req, reply.raw)))
  })

  await app.register(roundRoutes, { db })
  await app.register(calendarRoutes, { db })
}

/** Log an import's progress at most every five seconds. */
function progressLogger(log: { info: (o: object, m: string) => void }) {
  let last = 0
  return (p: { entity: string; done: number; total: number }) => {
    const now = Date.now()
    if (now - last < 5000 && p.done < p.total) return
    last = now
    log.info(p, `registry import: ${p.entity} ${p.done}/${p.total}`)
  }
}
