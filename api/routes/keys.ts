// API keys of the council's systems: created with one role, shown once, revocable. Admin only.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../storage/database.ts'
import { createApiKey, listApiKeys, revokeApiKey, ROLES } from '../../storage/api-keys.ts'
import { DateTime, Errors } from '../schemas/common.ts'
import { httpError } from '../errors.ts'

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)))
export const ApiKeyInfo = Type.Object({
  keyId: Type.String(), name: Type.String(), role: Role, createdAt: DateTime,
  revokedAt: Type.Union([DateTime, Type.Null()]), lastUsedAt: Type.Union([DateTime, Type.Null()]),
}, { $id: 'ApiKeyInfo' })

export const keyRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(ApiKeyInfo)
  app.post('/keys', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['access'], summary: 'Create an API key for a client system (shown once)', security: [{ apiKey: [] }],
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Role }, { additionalProperties: false }),
      response: { 201: Type.Object({ key: Type.String(), info: Type.Ref('ApiKeyInfo') }), ...Errors },
    },
  }, async (req, reply) => {
    const created = await createApiKey(db, req.body.name, req.body.role)
    req.log.info({ keyId: created.info.keyId, role: created.info.role, by: req.caller?.keyId }, 'API key created')
    return reply.code(201).send(created)
  })
  app.get('/keys', {
    onRequest: app.requireRole('admin'),
    schema: { tags: ['access'], summary: 'List API keys (never the keys themselves)', security: [{ apiKey: [] }], response: { 200: Type.Array(Type.Ref('ApiKeyInfo')), ...Errors } },
  }, async () => listApiKeys(db))
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
