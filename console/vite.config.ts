import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The ops console's build (docs/CONSOLE.md): served by the service at /console, built by `npm run console:build`. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2020', sourcemap: false, reportCompressedSize: false },
});
