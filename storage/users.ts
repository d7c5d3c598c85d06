// Dashboard users and their sessions. A session token is `kss_<random>`; only its SHA-256 digest is
// stored (it has 256 bits of entropy), and it expires.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { generateSecret, hashSecret, sha256, verifySecret } from '../core/secrets.ts'
import type { Role } from './api-keys.ts'
import type { Queryable } from './database.ts'

export interface UserInfo { username: string; displayName: string; role: Role; createdAt: Date; disabledAt: Date | null; lastLoginAt: Date | null }

export class UserConflictError extends Error {
  override name = 'KERBSIDE_ERR_USER_CONFLICT'
}

const SELECT_USER = `SELECT username, display_name AS "displayName", role, created_at AS "createdAt", disabled_at AS "disabledAt", last_login_at AS "lastLoginAt" FROM users`
export const SESSION_HOURS = 12

/** Create a user; returns the password (generated unless given), shown once. */
export async function createUser(db: Queryable, input: { username: string; displayName: string; role: Role; password?: string }): Promise<{ user: UserInfo; password: string }> {
  const password = input.password ?? generateSecret(18)
  try {
    await db.query(`INSERT INTO users (username, display_name, role, password_hash) VALUES ($1, $2, $3, $4)`, [input.username, input.displayName, input.role, await hashSecret(password)])
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new UserConflictError(`user ${input.username} already exists`)
    throw err
  }
  const { rows } = await db.query<UserInfo>(`${SELECT_USER} WHERE username = $1`, [input.username])
  return { user: rows[0]!, password }
}

export async function listUsers(db: Queryable): Promise<UserInfo[]> {
  return (await db.query<UserInfo>(`${SELECT_USER} ORDER BY username`)).rows
}

export async function disableUser(db: Queryable, username: string): Promise<boolean> {
  const res = await db.query(`UPDATE users SET disabled_at = now() WHERE username = $1 AND disabled_at IS NULL`, [username])
  await db.query(`UPDATE user_sessions SET revoked_at = now() WHERE username = $1 AND revoked_at IS NULL`, [username])
  return res.rowCount > 0
}

/** Check a password and open a session; null when the user is unknown, disabled or the password wrong. */
export async function login(db: Queryable, username: string, password: string): Promise<{ token: string; expiresAt: Date; expiresInSeconds: number; user: UserInfo } | null> {
  const { rows } = await db.query<UserInfo & { hash: string }>(`${SELECT_USER.replace(' FROM users', ', password_hash AS hash FROM users')} WHERE username = $1`, [username])
  const row = rows[0]
  // Hash even for an unknown user, so that timing does not tell which usernames exist.
  const ok = await verifySecret(password, row?.hash ?? DUMMY_HASH)
  if (!row || !ok || row.disabledAt) return null
  const token = `kss_${randomBytes(32).toString('base64url')}`
  const expiresAt = new Date(Date.now() + SESSION_HOURS * 3_600_000)
  await db.query(`INSERT INTO user_sessions (token_sha256, username, expires_at) VALUES ($1, $2, $3)`, [sha256(token), username, expiresAt.toISOString()])
  await db.query(`UPDATE users SET last_login_at = now() WHERE username = $1`, [username])
  const { hash: _h, ...user } = row
  return { token, expiresAt, expiresInSeconds: SESSION_HOURS * 3600, user }
}

export async function sessionUser(db: Queryable, token: string): Promise<UserInfo | null> {
  if (!/^kss_[A-Za-z0-9_-]{43}$/.test(token)) return null
  const digest = sha256(token)
  const { rows } = await db.query<UserInfo & { digest: Buffer }>(
    `SELECT u.username, u.display_name AS "displayName", u.role, u.created_at AS "createdAt", u.disabled_at AS "disabledAt", u.last_login_at AS "lastLoginAt", s.token_sha256 AS digest
       FROM user_sessions s JOIN users u USING (username)
      WHERE s.token_sha256 = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL`, [digest])
  const row = rows[0]
  if (!row || !timingSafeEqual(Buffer.from(row.digest), digest)) return null
  const { digest: _d, ...user } = row
  return user
}

export async function logout(db: Queryable, token: string): Promise<void> {
  await db.query(`UPDATE user_sessions SET revoked_at = now() WHERE token_sha256 = $1`, [sha256(token)])
}

const DUMMY_HASH = 'scrypt$8192$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
