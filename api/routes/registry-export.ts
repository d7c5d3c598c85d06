// The registry export as the access model allows it (api/access-model.ts): the whole registry for
// admin; for contract_manager and viewer the same entities without the personal fields (house
// address, position, assisted flag, RFID tags, CRM references), which are never given out in bulk
// to those roles. Every export is audited when its stream ends, with the entity and the number of
// rows it gave out, whether or not the caller read it to the end.
import type { ServerResponse } from 'node:http'
import { stringify } from 'csv-stringify/sync'
import type { FastifyRequest } from 'fastify'
import type { Database } from '../../storage/database.ts'
import { csvColumns, entityPages } from '../../storage/registry/export.ts'
import { REGISTRY_ENTITIES, type RegistryEntity } from '../../storage/registry/entities.ts'
import { auditRead, hiddenFields } from '../plugins/audit.ts'

function without(row: Record<string, unknown>, hidden: ReadonlySet<string>): Record<string, unknown> {
  if (hidden.size === 0) return row
  for (const f of hidden) delete row[f]
  return row
}

/**
 * Counts the rows an export gave out and writes its audit entry once: when the stream ends, or when
 * the connection closes before the stream was read at all. Made when the route answers, before
 * fastify's onSend hook runs (a generator's body runs only once the stream is first read, too late
 * to tell the audit plugin that this answer writes its own entry: it wrote a second, without rows).
 */
export function exportAudit(db: Database, req: FastifyRequest, res: ServerResponse) {
  req.auditDone = true
  let rows = 0
  let written: Promise<void> | null = null
  const done = () => (written ??= auditRead(db, req, 200, rows))
  res.once('close', () => void done().catch((err: unknown) => req.log.error({ err }, 'audit entry for a registry export could not be written')))
  return { count: (n: number) => { rows += n }, done }
}
type ExportAudit = ReturnType<typeof exportAudit>

export function exportJsonFor(db: Database, req: FastifyRequest, res: ServerResponse): AsyncGenerator<string> {
  return exportJson(db, req, exportAudit(db, req, res))
}

export function exportCsvFor(db: Database, req: FastifyRequest, res: ServerResponse, entity: RegistryEntity): AsyncGenerator<string> {
  return exportCsv(db, req, entity, exportAudit(db, req, res))
}

async function* exportJson(db: Database, req: FastifyRequest, audit: ExportAudit): AsyncGenerator<string> {
  const hidden = hiddenFields(req)
  try {
    yield '{'
    for (const [i, entity] of REGISTRY_ENTITIES.entries()) {
      yield `${i > 0 ? ',' : ''}\n  ${JSON.stringify(entity)}: [`
      let first = true
      for await (const page of entityPages(db, entity)) {
        audit.count(page.length)
        yield `${first ? '' : ','}\n    ${page.map((r) => JSON.stringify(without(r, hidden))).join(',\n    ')}`
        first = false
      }
      yield first ? ']' : '\n  ]'
    }
    yield '\n}\n'
  } finally {
    await audit.done()
  }
}

async function* exportCsv(db: Database, req: FastifyRequest, entity: RegistryEntity, audit: ExportAudit): AsyncGenerator<string> {
  const hidden = hiddenFields(req)
  const columns = csvColumns(entity).filter((c) => !hidden.has(c))
  try {
    yield stringify([columns])
    for await (const page of entityPages(db, entity)) {
      audit.count(page.length)
      yield stringify(page, { columns, cast: { boolean: (v) => (v ? 'true' : 'false') } })
    }
  } finally {
    await audit.done()
  }
}
