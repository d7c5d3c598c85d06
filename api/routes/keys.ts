// API keys of the council's systems: created with one role, shown once, revocable. Admin only.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../storage/database.ts'
import { createApiKey, listApiKeys, revokeApiKey, ROLES, updateApiKeySettings } from '../../storage/api-keys.ts'
import { DateTime, Errors } from '../schemas/common.ts'
import { httpError } from '../errors.ts'

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)))
export const ApiKeyInfo = Type.Object({
  keyId: Type.String(), name: Type.String(), role: Role, createdAt: DateTime,
  revokedAt: Type.Union([DateTime, Type.Null()]), lastUsedAt: Type.Union([DateTime, Type.Null()]),
  open311Extended: Type.Boolean({ description: 'Open311 answers to this key carry FixMyStreet\'s additional request attributes (agency_sent_datetime, title, interface_used, comment_count); docs/crm-integration.md' }),
}, { $id: 'ApiKeyInfo' })

const Open311Extended = Type.Boolean({ description: 'Send FixMyStreet\'s additional request attributes in Open311 answers to this key (default false: plain GeoReport v2)' })

export const keyRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(ApiKeyInfo)
  app.post('/keys', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['access'], summary: 'Create an API key for a client system (shown once)', security: [{ apiKey: [] }],
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Role, open311Extended: Type.Optional(Open311Extended) }, { additionalProperties: false }),
      response: { 201: Type.Object({ key: Type.String(), info: Type.Ref('ApiKeyInfo') }), ...Errors },
    },
  }, async (req, reply) => {
    const created = await createApiKey(db, req.body.name, req.body.role, { open311Extended: req.body.open311Extended })
    req.log.info({ keyId: created.info.keyId, role: created.info.role, open311Extended: created.info.open311Extended, by: req.caller?.keyId }, 'API key created')
    return reply.code(201).send(created)
  })
  app.get('/keys', {
    onRequest: app.requireRole('admin'),
    schema: { tags: ['access'], summary: 'List API keys (never the keys themselves)', security: [{ apiKey: [] }], response: { 200: Type.Array(Type.Ref('ApiKeyInfo')), ...Errors } },
  }, async () => listApiKeys(db))
  app.patch('/keys/:keyId', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['access'], summary: 'Change an API key\'s settings (Open311 extended attributes)', security: [{ apiKey: [] }],
      params: Type.Object({ keyId: Type.String({ maxLength: 32 }) }),
      body: Type.Object({ open311Extended: Open311Extended }, { additionalProperties: false }),
      response: { 200: Type.Ref('ApiKeyInfo'), ...Errors },
    },
  }, async (req) => {
    const info = await updateApiKeySettings(db, req.params.keyId, req.body)
    if (!info) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No active key ${req.params.keyId}.`)
    // The cached caller carries the setting: at once here, in other processes within KEY_CACHE_MS.
    app.forgetApiKey(req.params.keyId)
    req.log.info({ keyId: info.keyId, open311Extended: info.open311Extended, by: req.caller?.keyId }, 'API key settings changed')
    return info
  })
  app.delete('/keys/:keyId', {
    onRequest: app.requireRole('admin'),
    schema: { tags: ['access'], summary: 'Revoke an API key', security: [{ apiKey: [] }], params: Type.Object({ keyId: Type.String({ maxLength: 32 }) }), response: { 204: Type.Null(), ...Errors } },
  }, async (req, reply) => {
    if (!(await revokeApiKey(db, req.params.keyId))) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No active key ${req.params.keyId}.`)
    // At once in this process; other processes of the deployment within KEY_CACHE_MS (SECURITY.md).
    app.forgetApiKey(req.params.keyId)
    req.log.info({ keyId: req.params.keyId, by: req.caller?.keyId }, 'API key revoked')
    return reply.code(204).send(null)
  })
}
