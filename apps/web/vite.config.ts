import { defaultClientConditions, defineConfig } from 'vite';

/**
 * Static files in dist/ with relative asset paths, so any host can serve them under any prefix.
 * `@mm/client` and `@mm/contract` are taken from their TypeScript sources (the `source` export
 * condition), like everywhere else in the monorepo. `npm run dev -w @mm/web` proxies the API and the socket to a
 * running `npm start` (MM_API, default http://localhost:3000).
 */
const api = process.env.MM_API ?? 'http://localhost:3000';

export default defineConfig({
  base: './',
  resolve: { conditions: ['source', ...defaultClientConditions] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    proxy: {
      '/api': api,
      '/socket.io': { target: api, ws: true },
    },
  },
});
