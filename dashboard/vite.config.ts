// The dashboard's build: Svelte 5 + Vite, rooted here, built into dashboard/dist, which the API
// serves at / (see api/build-api.ts). In development the Vite server proxies /api (REST and the
// live WebSocket) to a running Kerbside, at KERBSIDE_API_URL or the default local port.
import { fileURLToPath } from 'node:url'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'

const api = process.env.KERBSIDE_API_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Everything is served by Kerbside itself: no CDN, no inline scripts (the CSP is self only).
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
  server: {
    port: 5173,
    proxy: { '/api': { target: api, ws: true, changeOrigin: true } },
  },
})
