// The access model (api/access-model.ts) enforced on every answer, in one place:
// - as each route is added, the roles its requireRole declares must be the model's, else the API
//   does not start (a route missing from the model starts, unprotected by the rest of this plugin;
//   tests/api/access-model.test.ts fails on it);
// - before an answer is serialised, the personal fields the caller's role may not see are removed,
//   and so are rows that are each about one household (RouteAccess.householdRows) for roles that
//   may not see households;
// - every successful answer that carries personal data for the caller is written to the audit log
//   (who, role, route, the household or other subject, how many rows) before it leaves; if the
//   entry cannot be written the caller gets a 500 instead of the data.
// Routes that send a pre-built document (Open311 XML) or a stream (the registry export) call
// `hiddenFields(req)` themselves, and a stream records its own entry when it ends (`req.auditDone`).
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Database } from '../../storage/database.ts'
import { recordAudit } from '../../storage/audit.ts'
import { ACCESS_MODEL, accessOf, carriesPersonalData, dropHouseholdRows, keylessHiddenFields, personalFieldsFor, routeKey, seesClass, stripFields, type RouteAccess } from '../access-model.ts'
import { ROLES_OF, type RoleHook } from './auth.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** Rows of personal data counted in the answer, for its audit entry. */
    auditRows: number | null
    /** The route wrote its own audit entry (streams), or will when its stream ends. */
    auditDone: boolean
  }
}

/** The personal fields to remove from this request's answer (none for public routes or without a caller). */
export function hiddenFields(req: FastifyRequest): Set<string> {
  const access = accessOf(req.method, req.routeOptions.url)
  if (access?.keyless && !req.caller) return new Set(keylessHiddenFields(access))
  if (!access || !req.caller) return new Set()
  return new Set(personalFieldsFor(access, req.caller.role).hidden)
}

/** Objects in `value` that carry one of `fields`: the rows of personal data an answer gives out. */
export function countRows(value: unknown, fields: ReadonlySet<string>, depth = 0): number {
  if (value === null || typeof value !== 'object' || depth > 16) return 0
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countRows(v, fields, depth + 1), 0)
  const obj = value as Record<string, unknown>
  let n = Object.keys(obj).some((k) => fields.has(k) && obj[k] !== null && obj[k] !== undefined) ? 1 : 0
  for (const v of Object.values(obj)) n += countRows(v, fields, depth + 1)
  return n
}

/** What a read was about, when not one household: its path parameters and filters, without credentials. */
export function subjectOf(req: FastifyRequest): string | null {
  const parts: string[] = []
  for (const [k, v] of Object.entries((req.params ?? {}) as Record<string, unknown>)) if (k !== 'uprn' && k !== 'format') parts.push(`${k}=${String(v)}`)
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
    if (['uprn', 'entity', 'q', 'service_request_id', 'stream', 'status'].includes(k) && v !== undefined) parts.push(`${k}=${String(v).slice(0, 100)}`)
  }
  return parts.length > 0 ? parts.join(' ') : null
}

function uprnOf(req: FastifyRequest): number | null {
  const raw = (req.params as { uprn?: unknown } | undefined)?.uprn ?? (req.query as { uprn?: unknown } | undefined)?.uprn
  const n = Number(raw)
  return raw !== undefined && Number.isSafeInteger(n) ? n : null
}

export async function auditRead(db: Database, req: FastifyRequest, status: number, rows: number | null): Promise<void> {
  if (!req.caller) return
  await recordAudit(db, {
    actor: req.caller.keyId, actorName: req.caller.name, role: req.caller.role, action: `${req.method} ${req.routeOptions.url}`,
    uprn: uprnOf(req), status, ip: req.ip, subject: subjectOf(req), rows,
  })
}

function rolesDeclared(hooks: unknown): readonly string[] | null {
  for (const h of Array.isArray(hooks) ? hooks : [hooks]) {
    if (typeof h === 'function' && ROLES_OF in h) return (h as RoleHook)[ROLES_OF]
  }
  return null
}

const sameRoles = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((r) => b.includes(r))

export const auditPlugin = fp<{ db: Database }>(async (app, { db }) => {
  app.decorateRequest('auditRows', null)
  app.decorateRequest('auditDone', false)

  app.addHook('onRoute', (route) => {
    const declared = rolesDeclared(route.onRequest) ?? rolesDeclared(route.preHandler) ?? rolesDeclared(route.preValidation)
    if (!declared) return
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (method === 'HEAD') continue
      const key = routeKey(method, route.url)
      const modelled: RouteAccess | undefined = ACCESS_MODEL[key]
      if (!modelled) continue
      if (typeof modelled.roles === 'string' || !sameRoles(declared.filter((r) => r !== 'admin'), modelled.roles.filter((r) => r !== 'admin'))) {
        throw new Error(`${key} accepts the roles ${declared.join(', ') || 'admin'}, but api/access-model.ts says ${JSON.stringify(modelled.roles)}: change one of them.`)
      }
    }
  })

  app.addHook('preSerialization', async (req, reply, payload) => {
    const access = accessOf(req.method, req.routeOptions.url)
    // Error bodies carry no personal data (and Open311's have a `description` of their own).
    if (!access || !req.caller || reply.statusCode >= 300 || payload === null || typeof payload !== 'object') return payload
    const { shown, hidden } = personalFieldsFor(access, req.caller.role)
    if (access.householdRows && !seesClass(access, req.caller.role, 'household')) dropHouseholdRows(payload, access.householdRows)
    stripFields(payload, new Set(hidden))
    req.auditRows = access.aboutHousehold ? Math.max(1, countRows(payload, new Set(shown))) : countRows(payload, new Set(shown))
    return payload
  })

  app.addHook('onSend', async (req, reply, payload) => {
    const access = accessOf(req.method, req.routeOptions.url)
    if (!access || !req.caller || req.auditDone || reply.statusCode >= 400 || !carriesPersonalData(access, req.caller.role)) return payload
    await auditRead(db, req, reply.statusCode, req.auditRows)
    return payload
  })
}, { name: 'kerbside-audit', dependencies: ['kerbside-auth'] })
