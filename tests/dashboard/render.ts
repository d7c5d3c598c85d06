// Mount a Svelte component into the test DOM, and take it down after the test.
import { flushSync, mount, unmount, type Component } from 'svelte'
import { afterEach } from 'vitest'

const mounted: (() => void)[] = []
afterEach(() => {
  for (const m of mounted.splice(0)) m()
  document.body.innerHTML = ''
})

// Svelte's own Component type bounds props by Record<string, any>; interfaces of props need it too.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function render<P extends Record<string, any>>(component: Component<P>, props: NoInfer<P>): HTMLElement {
  const target = document.createElement('div')
  document.body.appendChild(target)
  const instance = mount(component, { target, props })
  mounted.push(() => void unmount(instance))
  flushSync()
  return target
}

export const byTestId = (root: ParentNode, id: string): HTMLElement[] => [...root.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)]
export const text = (el: Element | null | undefined): string => (el?.textContent ?? '').replace(/\s+/g, ' ').trim()
