// API keys: `ks_<keyId>_<secret>`. Only a SHA-256 digest of the whole key is stored.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { sha256 } from '../core/secrets.ts'
import type { Queryable } from './database.ts'

export const ROLES = ['admin', 'contract_manager', 'crm', 'provisioning', 'viewer'] as const
export type Role = (typeof ROLES)[number]

export interface ApiKeyInfo {
  keyId: string
  name: string
  role: Role
  createdAt: Date
  revokedAt: Date | null
  lastUsedAt: Date | null
  /** Open311 answers to this key carry FixMyStreet's additional request attributes (api/routes/open311/representation.ts). */
  open311Extended: boolean
}

export interface ApiKeySettings {
  open311Extended?: boolean
}

const INFO_COLUMNS = `key_id AS "keyId", name, role, created_at AS "createdAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt", open311_extended AS "open311Extended"`

const KEY_RE = /^ks_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/

export async function createApiKey(db: Queryable, name: string, role: Role, settings: ApiKeySettings = {}): Promise<{ key: string; info: ApiKeyInfo }> {
  const keyId = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12)
  const key = `ks_${keyId}_${randomBytes(32).toString('base64url')}`
  const { rows } = await db.query<ApiKeyInfo>(
    `INSERT INTO api_keys (key_id, name, role, key_sha256, open311_extended) VALUES ($1, $2, $3, $4, $5) RETURNING ${INFO_COLUMNS}`,
    [keyId, name, role, sha256(key), settings.open311Extended ?? false],
  )
  return { key, info: rows[0]! }
}

/** The key's identity and role when it is valid and not revoked; null otherwise. */
export async function verifyApiKey(db: Queryable, key: string): Promise<ApiKeyInfo | null> {
  const m = KEY_RE.exec(key)
  if (!m) return null
  const { rows } = await db.query<ApiKeyInfo & { digest: Buffer }>(
    `SELECT ${INFO_COLUMNS}, key_sha256 AS digest FROM api_keys WHERE key_id = $1`,
    [m[1]],
  )
  const row = rows[0]
  if (!row || row.revokedAt) return null
  const digest = Buffer.from(row.digest)
  if (digest.length !== 32 || !timingSafeEqual(digest, sha256(key))) return null
  const { digest: _d, ...info } = row
  return info
}

export async function listApiKeys(db: Queryable): Promise<ApiKeyInfo[]> {
  const { rows } = await db.query<ApiKeyInfo>(`SELECT ${INFO_COLUMNS} FROM api_keys ORDER BY created_at`)
  return rows
}

/** Change a key's settings; the key as it now is, or null when there is no active key with that id. */
export async function updateApiKeySettings(db: Queryable, keyId: string, settings: ApiKeySettings): Promise<ApiKeyInfo | null> {
  const { rows } = await db.query<ApiKeyInfo>(
    `UPDATE api_keys SET open311_extended = COALESCE($2, open311_extended) WHERE key_id = $1 AND revoked_at IS NULL RETURNING ${INFO_COLUMNS}`,
    [keyId, settings.open311Extended ?? null],
  )
  return rows[0] ?? null
}

export async function revokeApiKey(db: Queryable, keyId: string): Promise<boolean> {
  return (await db.query(`UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL`, [keyId])).rowCount > 0
}
