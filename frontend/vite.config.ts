import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// The deployed app reads its settings from /config.json, which the provisioner writes next to index.html.
// It is deliberately NOT in public/, so `vite build` never ships one: a stale example config in a
// production zip would point users at the wrong pool. For `vite dev` / `vite preview` this plugin serves
// ./config.json (git-ignored; copy config.example.json) at /config.json.
const localConfig = fileURLToPath(new URL('./config.json', import.meta.url));

function serveLocalConfig(): Plugin {
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    if (req.url?.split('?')[0] !== '/config.json') return next();
    readFile(localConfig, 'utf8').then(
      (text) => {
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('Cache-Control', 'no-store');
        res.end(text);
      },
      () => {
        res.statusCode = 404;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ message: 'frontend/config.json not found: copy config.example.json to config.json' }));
      },
    );
  };
  return {
    name: 'serve-local-config-json',
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
  };
}

export default defineConfig({
  base: '/',
  plugins: [serveLocalConfig()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 4096,
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
