import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { ConfigError, ConfigSchema, loadConfig } from '../../core/config.ts'

test('defaults give the embedded mode', () => {
  const c = loadConfig({})
  expect(c).toMatchObject({ KERBSIDE_DATA_DIR: './.kerbside', MQTT_PORT: 1883, HTTP_PORT: 8080, MQTT_PERSISTENCE: 'memory' })
  expect(c.DATABASE_URL).toBeUndefined()
})

test('values are converted and every bad setting is named', () => {
  expect(loadConfig({ MQTT_PORT: '1884', KERBSIDE_JOBS: 'false' })).toMatchObject({ MQTT_PORT: 1884, KERBSIDE_JOBS: false })
  const err = (() => { try { loadConfig({ MQTT_PORT: 'eighty', MQTT_PERSISTENCE: 'floppy', HTTP_PORT: '70000' }) } catch (e) { return e } })() as Error
  expect(err).toBeInstanceOf(ConfigError)
  expect(err.message).toMatch(/MQTT_PORT/)
  expect(err.message).toMatch(/MQTT_PERSISTENCE/)
  expect(err.message).toMatch(/HTTP_PORT/)
  expect(() => loadConfig({ MQTT_TLS_CERT: '/x.pem' })).toThrow(/MQTT_TLS_CERT and MQTT_TLS_KEY must be set together/)
})

test('.env.example lists exactly the settings the code reads', () => {
  const text = readFileSync(join(import.meta.dirname, '..', '..', '.env.example'), 'utf8')
  const listed = text.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0])
  expect(listed.sort()).toEqual(Object.keys(ConfigSchema.properties).sort())
})
