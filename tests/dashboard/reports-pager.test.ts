// The reports list's pager says where the page is in the list and asks for newer and older pages
// only when there are some; the Link header's rel="next" gives the cursor of the older page.
import { expect, test } from 'vitest'
import ReportsPager from '../../dashboard/src/components/ReportsPager.svelte'
import { nextAfter } from '../../dashboard/src/lib/reports-state.svelte.ts'
import { byTestId, render, text } from './render.ts'

const pager = (over: Record<string, unknown>, asked: string[] = []) => render(ReportsPager, {
  first: 1, shown: 100, hasNewer: false, hasOlder: true, onnewer: () => asked.push('newer'), onolder: () => asked.push('older'), ...over,
})
const button = (root: HTMLElement, id: string) => byTestId(root, id)[0] as HTMLButtonElement

test('the newest page: where it is, no newer page, older asked for', () => {
  const asked: string[] = []
  const root = pager({}, asked)
  expect(text(byTestId(root, 'reports-page')[0])).toBe('1–100, older on the next pages')
  expect(button(root, 'reports-newer').disabled).toBe(true)
  button(root, 'reports-older').click()
  button(root, 'reports-newer').click()
  expect(asked).toEqual(['older'])
})

test('a middle page asks for both; the oldest says so; a page loading asks for none', () => {
  const asked: string[] = []
  const middle = pager({ first: 101, hasNewer: true }, asked)
  button(middle, 'reports-newer').click()
  button(middle, 'reports-older').click()
  expect(asked).toEqual(['newer', 'older'])
  const oldest = pager({ first: 1101, shown: 37, hasNewer: true, hasOlder: false }, asked)
  expect(text(byTestId(oldest, 'reports-page')[0])).toBe('1,101–1,137, the oldest')
  expect(button(oldest, 'reports-older').disabled).toBe(true)
  const busy = pager({ first: 101, hasNewer: true, busy: true }, asked)
  button(busy, 'reports-newer').click()
  button(busy, 'reports-older').click()
  expect(asked).toEqual(['newer', 'older'])
})

test('one page only: no pager', () => {
  expect(byTestId(pager({ shown: 12, hasOlder: false }), 'reports-page')).toHaveLength(0)
})

test('the cursor of the older page from the Link header', () => {
  expect(nextAfter('</api/v1/reports?from=2026-03-01T00%3A00%3A00.000Z&limit=100&after=812>; rel="next"')).toBe(812)
  expect(nextAfter('<https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context", </api/v1/reports?after=5&limit=2>; rel="next"')).toBe(5)
  expect(nextAfter(null)).toBeNull()
  expect(nextAfter('</api/v1/reports?limit=2>; rel="next"')).toBeNull()
})
