import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const alias = { '#libs': `${root}libs`, '#apps': `${root}apps` };

export default defineConfig({
  root,
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
  test: { env: { TZ: 'UTC' }, include: ['.review14/**/*.test.ts'], testTimeout: 30_000, fileParallelism: false },
});
