// The access model is written once (api/access-model.ts) and shown as a table in
// docs/data-protection.md and SECURITY.md: the tables must be the model's, or the docs promise
// something the code does not do.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { accessTable } from '../../api/access-model.ts'

const ROOT = join(import.meta.dirname, '../..')

test.each(['docs/data-protection.md', 'SECURITY.md'])('%s shows the access model as it is', (file) => {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const table = /<!-- access-model:begin[^>]*-->\n([\s\S]*?)\n<!-- access-model:end -->/.exec(text)?.[1]
  expect(table, `${file} has no access-model table`).toBeDefined()
  expect(table, `${file}: regenerate the table with accessTable() from api/access-model.ts`).toBe(accessTable())
})
