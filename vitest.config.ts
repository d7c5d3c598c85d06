import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vitest/config'

// Test tiers (see README "Tests"): the default suite runs unit and integration tests on real
// sockets and the embedded TimescaleDB; the other suites are run by their own npm scripts.
const heavy = ['tests/services/**', 'tests/faults/**', 'tests/hostile/**', 'tests/e2e/**', 'tests/dashboard/**']

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'default', include: ['tests/**/*.test.ts'], exclude: heavy, testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: 'services', include: ['tests/services/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 120_000, fileParallelism: false } },
      { test: { name: 'hostile', include: ['tests/hostile/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 120_000, fileParallelism: false } },
      { test: { name: 'faults', include: ['tests/faults/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 120_000, fileParallelism: false } },
      // Dashboard components and state in a DOM (happy-dom), compiled by the Svelte plugin for the browser.
      { plugins: [svelte()], resolve: { conditions: ['browser'] }, test: { name: 'dashboard', include: ['tests/dashboard/**/*.test.ts'], environment: 'happy-dom' } },
      { test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 180_000, fileParallelism: false } },
    ],
  },
})
