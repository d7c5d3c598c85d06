// Secrets: generated with a CSPRNG, stored only as a slow hash (scrypt, RFC 7914), compared in constant time.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const scrypt = promisify(scryptCb) as (password: string | Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>

// N=2^13, r=8: ~8 MiB and ~12 ms per check. The parameters are stored with each hash, so they can be
// raised later. Brokers cache successful checks (see broker/device-auth.ts), so a reconnect storm costs
// one hash per device, not one per connection attempt.
const PARAMS = { N: 8192, r: 8, p: 1 }
const KEY_LEN = 32

/** A new random secret, URL-safe, 32 bytes of entropy. */
export const generateSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url')

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(secret, salt, KEY_LEN, { ...PARAMS, maxmem: 64 * 1024 * 1024 })
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [, n, r, p, saltB64, keyB64] = parts as [string, string, string, string, string, string]
  const expected = Buffer.from(keyB64, 'base64')
  const key = await scrypt(secret, Buffer.from(saltB64, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 })
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/** Constant-time equality of two strings of any length (compares their SHA-256 digests). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest()
  const db = createHash('sha256').update(b).digest()
  return timingSafeEqual(da, db)
}

export const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest()
