// Vite build of Rapport's web app. `npm run dev` proxies the API to a local `rapport serve`;
// `npm run build` writes dist/, which the Rust binary embeds.
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
    },
  },
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      output: {
        // React and its router in one long-cached chunk. Everything else the entry imports
        // statically (the shell, i18n, Ant Design's core and the components the shell uses) stays
        // in the entry chunk rather than in dozens of small shared chunks: fewer requests, and one
        // brotli stream compresses better. Lazy pages are split by the pages that use them.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|react-router|scheduler|@tanstack)[\\/]/, priority: 20 },
            { name: 'index', tags: ['$initial'], priority: 10 },
          ],
        },
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
