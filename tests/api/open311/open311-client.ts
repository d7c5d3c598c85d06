// A client for the Open311 conformance tests: a real Kerbside stack over HTTP, API keys of every
// role, and both formats read back — JSON as sent, XML parsed with fast-xml-parser and checked for
// the spec's declaration, root and item elements.
import { expect } from 'vitest'
import { XMLParser } from 'fast-xml-parser'
import { createApiKey, type Role } from '../../../storage/api-keys.ts'
import { seedMinimalRegistry, startTestStack, type TestStack } from '../../helpers/stack.ts'

export const UPRN_1 = 100000000001 // 1 Test Street, L1 1AA: residual bin
export const UPRN_2 = 100000000002 // 2 Test Street, L1 1AA: recycling bin
export const FORMATS = ['json', 'xml'] as const
export type Format = (typeof FORMATS)[number]

export interface Open311Stack {
  t: TestStack
  keys: Record<Exclude<Role, 'admin'>, string>
  url(path: string): string
  close(): Promise<void>
}

export async function startOpen311Stack(overrides: Parameters<typeof startTestStack>[0] = {}): Promise<Open311Stack> {
  const t = await startTestStack(overrides)
  await seedMinimalRegistry(t.db)
  const keys = {} as Open311Stack['keys']
  for (const role of ['crm', 'contract_manager', 'viewer', 'provisioning'] as const) keys[role] = (await createApiKey(t.db, `test ${role}`, role)).key
  return { t, keys, url: (path) => `${t.httpUrl}/open311/v2${path}`, close: () => t.close() }
}

export interface Answer {
  status: number
  contentType: string
  text: string
  headers: Headers
}

const answer = async (res: Response): Promise<Answer> => ({ status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers })

export const get = async (url: string, headers: Record<string, string> = {}): Promise<Answer> => answer(await fetch(url, { headers }))

export const postForm = async (url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> =>
  answer(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers }, body: new URLSearchParams(fields).toString() }))

export const postJson = async (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
  answer(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }))

// Every list element of GeoReport v2 (and FixMyStreet's update feed) parses as an array, even with one item.
const LIST_ITEMS = new Set(['service', 'attribute', 'value', 'request', 'request_update', 'error', 'endpoint', 'format'])
const parser = new XMLParser({ ignoreDeclaration: false, parseTagValue: false, isArray: (name) => LIST_ITEMS.has(name) })

type Doc = Record<string, unknown>

/** Parse an XML answer and check the spec's declaration and root element; returns the root's content. */
export function xmlRoot(a: Answer, root: string): Doc {
  expect(a.contentType).toBe('text/xml; charset=utf-8')
  expect(a.text.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true)
  const doc = parser.parse(a.text) as Doc
  const roots = Object.keys(doc).filter((k) => k !== '?xml')
  expect(roots).toEqual([root])
  const content = doc[root]
  return content === '' ? {} : (content as Doc)
}

/** The items of an XML list document (root/item…), each field as text. */
export const xmlItems = (a: Answer, root: string, item: string): Doc[] => (xmlRoot(a, root)[item] as Doc[] | undefined) ?? []

/** A JSON answer, checked for the spec's content type. */
export function json<T = Doc[]>(a: Answer): T {
  expect(a.contentType).toBe('application/json; charset=utf-8')
  return JSON.parse(a.text) as T
}

/** The items of a list document in either format, XML fields as text and JSON fields as sent. */
export function items(a: Answer, format: Format, root: string, item: string): Doc[] {
  return format === 'json' ? json<Doc[]>(a) : xmlItems(a, root, item)
}

/** An Open311 error answer in either format: checks the status, the spec's shape, and returns the descriptions. */
export function expectErrors(a: Answer, format: Format, status: number): string[] {
  expect(a.status, a.text).toBe(status)
  const errors = format === 'json' ? json<{ code: number; description: string }[]>(a) : xmlItems(a, 'errors', 'error')
  expect(errors.length).toBeGreaterThan(0)
  for (const e of errors) {
    expect(Object.keys(e).sort()).toEqual(['code', 'description'])
    expect(String(e.code)).toBe(String(status))
    expect(typeof e.description).toBe('string')
  }
  return errors.map((e) => String(e.description))
}

/** Fields a reporter may give that are personal data; none may ever appear in an answer. */
export const PERSONAL = { first_name: 'Philippa', last_name: 'Quartermaine', email: 'pq.reporter@example.org', phone: '07700 900461', device_id: 'device-7f3a9c' }

export function expectNoPersonalData(text: string): void {
  for (const value of Object.values(PERSONAL)) expect(text).not.toContain(value)
  for (const field of ['first_name', 'last_name', 'email', 'phone', 'device_id']) {
    expect(text).not.toContain(`"${field}"`)
    expect(text).not.toContain(`<${field}`)
  }
}
