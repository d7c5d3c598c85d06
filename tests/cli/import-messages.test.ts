// Import errors in plain words. Regression: a bad postcode was reported as "expected string length
// less or equal to 10"; the person importing needs to read "not a UK postcode".
import { expect, test } from 'vitest'
import { plainImportMessage } from '../../cli/import-messages.ts'
import { formatReport } from '../../cli/registry-command.ts'
import type { ImportReport } from '../../storage/registry/import.ts'

test('schema messages become plain words, keeping the value given', () => {
  expect(plainImportMessage('postcode', 'expected string length less or equal to 10 (got "NOT A POSTCODE AT ALL")')).toBe('not a UK postcode (like L1 8JQ) (got "NOT A POSTCODE AT ALL")')
  expect(plainImportMessage('uprn', 'expected integer (got "ABC")')).toBe('not a UPRN (a whole number of up to 12 digits) (got "ABC")')
  expect(plainImportMessage('startsAt', 'expected string to match \'^([01]\\d|2[0-3]):[0-5]\\d$\' (got "25:00")')).toBe('not a time written HH:MM (00:00 to 23:59) (got "25:00")')
})

test('messages that are already words, and fields without a plainer wording, are kept', () => {
  expect(plainImportMessage('postcode', 'is required')).toBe('is required')
  expect(plainImportMessage('address', 'expected string length greater or equal to 1 (got "")')).toBe('expected string length greater or equal to 1 (got "")')
  expect(plainImportMessage(undefined, 'must be an object with the fields of households, got 3')).toBe('must be an object with the fields of households, got 3')
})

test('the CLI report uses them, and says where every column is described', () => {
  const report = { ok: false, dryRun: false, errors: [{ entity: 'households', row: 2, field: 'postcode', message: 'expected string length less or equal to 10 (got "NOT A POSTCODE AT ALL")' }] } as unknown as ImportReport
  const lines = formatReport(report, true)
  expect(lines).toContain('  households row 2 (line 3), postcode: not a UK postcode (like L1 8JQ) (got "NOT A POSTCODE AT ALL")')
  expect(lines.at(-1)).toBe('Every column, with examples: docs/import-columns.md')
})
