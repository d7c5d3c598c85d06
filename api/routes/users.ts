// Dashboard sign-in: username and password for a session token; user management for admins.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Database } from '../../storage/database.ts'
import { ROLES } from '../../storage/api-keys.ts'
import { createUser, disableUser, listUsers, login, logout, UserConflictError } from '../../storage/users.ts'
import { DateTime, Errors, Ref } from '../schemas/common.ts'
import { httpError } from '../errors.ts'

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)))
export const UserInfo = Type.Object({
  username: Type.String(), displayName: Type.String(), role: Role, createdAt: DateTime,
  disabledAt: Type.Union([DateTime, Type.Null()]), lastLoginAt: Type.Union([DateTime, Type.Null()]),
}, { $id: 'UserInfo' })
export const LoginResponse = Type.Object({
  token: Type.String(),
  expiresAt: Type.String({ format: 'date-time', description: "When the session ends, on the server's clock." }),
  expiresInSeconds: Type.Integer({ minimum: 1, description: "Seconds from this answer until the session ends: time the end with this in a client, whose clock may differ from the server's." }),
  user: Ref(UserInfo),
}, { $id: 'LoginResponse' })
export type LoginResponse = Static<typeof LoginResponse>

export const userRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.addSchema(UserInfo)
  app.addSchema(LoginResponse)

  app.post('/auth/login', {
    // Guessing passwords is slow work: ten tries a minute per address.
    config: { rateLimit: { max: 10, timeWindow: '1 minute', keyGenerator: (req) => req.ip } },
    schema: {
      tags: ['access'], summary: 'Sign in to the dashboard; the token goes in "Authorization: Bearer <token>"',
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 200: Type.Ref('LoginResponse'), ...Errors },
    },
  }, async (req) => {
    const session = await login(db, req.body.username, req.body.password)
    if (!session) {
      req.log.warn({ username: req.body.username }, 'dashboard sign-in refused')
      throw httpError(401, 'KERBSIDE_ERR_BAD_LOGIN', 'Unknown user or wrong password. Ask your Kerbside administrator if you need a new one.')
    }
    req.log.info({ username: req.body.username }, 'dashboard sign-in')
    return session
  })

  app.post('/auth/logout', {
    schema: { tags: ['access'], summary: 'End the session of the token sent', response: { 204: Type.Null(), ...Errors } },
  }, async (req, reply) => {
    const auth = req.headers.authorization
    if (auth?.startsWith('Bearer kss_')) await logout(db, auth.slice(7).trim())
    return reply.code(204).send(null)
  })

  app.get('/users', {
    onRequest: app.requireRole('admin'),
    schema: { tags: ['access'], summary: 'Dashboard users', security: [{ apiKey: [] }], response: { 200: Type.Array(Type.Ref('UserInfo')), ...Errors } },
  }, async () => listUsers(db))

  app.post('/users', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['access'], summary: 'Create a dashboard user; the password is returned once', security: [{ apiKey: [] }],
      body: Type.Object({ username: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{1,63}$' }), displayName: Type.String({ minLength: 1, maxLength: 100 }), role: Role }, { additionalProperties: false }),
      response: { 201: Type.Object({ user: Type.Ref('UserInfo'), password: Type.String() }), 409: Type.Ref('Error'), ...Errors },
    },
  }, async (req, reply) => {
    try {
      const created = await createUser(db, req.body)
      req.log.info({ username: req.body.username, role: req.body.role, by: req.caller?.keyId }, 'dashboard user created')
      return reply.code(201).send(created)
    } catch (err) {
      if (err instanceof UserConflictError) throw httpError(409, err.name, err.message)
      throw err
    }
  })

  app.delete('/users/:username', {
    onRequest: app.requireRole('admin'),
    schema: { tags: ['access'], summary: 'Disable a user and end their sessions', security: [{ apiKey: [] }], params: Type.Object({ username: Type.String({ maxLength: 64 }) }), response: { 204: Type.Null(), ...Errors } },
  }, async (req, reply) => {
    if (!(await disableUser(db, req.params.username))) throw httpError(404, 'KERBSIDE_ERR_NOT_FOUND', `No active user ${req.params.username}.`)
    app.forgetApiKey(`user:${req.params.username}`) // their open live-feed connections close at once
    return reply.code(204).send(null)
  })
}
