// Who may use the Open311 endpoint. The spec requires an api_key to POST a request and answers a
// missing or invalid key with 403 (spec, "Errors"). It lets anyone read services and requests, and
// FixMyStreet reads them without one (its Open311.pm sends api_key on POST only): so requests are
// read without a key too, but then without the household's address, UPRN and position or what the
// resident wrote (api/access-model.ts `keyless`); a key with a role shows what that role may see.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AuthError, ROLES_OF, type RoleHook } from '../../plugins/auth.ts'
import type { Role } from '../../../storage/api-keys.ts'
import { forbidden } from './errors.ts'

export const CREATE_ROLES: Role[] = ['crm']
export const READ_ROLES: Role[] = ['crm', 'contract_manager', 'viewer']

/** Whether the request carries a key anywhere the auth plugin looks (header, body or query field). */
function presentsKey(req: FastifyRequest): boolean {
  const fields = [req.headers.authorization, req.headers['x-api-key'], (req.body as { api_key?: unknown } | undefined)?.api_key, (req.query as { api_key?: unknown } | undefined)?.api_key]
  return fields.some((v) => typeof v === 'string' && v.trim() !== '')
}

/**
 * A preValidation hook admitting keys with one of `roles` (admin always), answering 403 in the
 * Open311 error format otherwise. It runs before body validation, so a keyless client learns first
 * that it needs a key.
 */
export function requireOpen311Key(app: FastifyInstance, action: string, roles: Role[], opts: { keyless?: boolean } = {}): RoleHook {
  const check = app.requireRole(...roles)
  const hook = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!presentsKey(req) && opts.keyless) return // the public representation (see above)
    if (!presentsKey(req)) throw forbidden(`Missing api_key: send it as the api_key field, or as "Authorization: Bearer <key>" or "X-Api-Key". It is needed to ${action}.`)
    try {
      await check(req, reply)
    } catch (err) {
      if (!(err instanceof AuthError)) throw err
      throw err.statusCode === 401
        ? forbidden(`Invalid api_key received -- can't ${action}.`)
        : forbidden(`This api_key may not ${action}: it has the role ${req.caller?.role ?? 'unknown'}, and this needs one of ${roles.join(', ')}.`)
    }
  }
  return Object.assign(hook, { [ROLES_OF]: roles })
}
