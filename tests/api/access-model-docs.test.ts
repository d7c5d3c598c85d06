// The access model is written once (api/access-model.ts) and shown as a table in
// docs/data-protection.md and SECURITY.md: the tables must be the model's, or the docs promise
// something the code does not do. After changing the model, rewrite both tables with
//   UPDATE_ACCESS_TABLES=1 npx vitest run --project default tests/api/access-model-docs.test.ts
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { accessTable } from '../../api/access-model.ts'

const ROOT = join(import.meta.dirname, '../..')
const BLOCK = /(<!-- access-model:begin[^>]*-->\n)([\s\S]*?)(\n<!-- access-model:end -->)/

test.each(['docs/data-protection.md', 'SECURITY.md'])('%s shows the access model as it is', (file) => {
  const path = join(ROOT, file)
  let text = readFileSync(path, 'utf8')
  if (process.env.UPDATE_ACCESS_TABLES) {
    text = text.replace(BLOCK, (_m, begin: string, _old: string, end: string) => `${begin}${accessTable()}${end}`)
    writeFileSync(path, text)
  }
  const table = BLOCK.exec(text)?.[2]
  expect(table, `${file} has no access-model table`).toBeDefined()
  expect(table, `${file}: rewrite the table (see the top of this test file)`).toBe(accessTable())
})
