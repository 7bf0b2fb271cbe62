import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** apps/web, whether this runs from the source (tests) or compiled into dist/apps/web (npm run build). */
function sourceDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join('dist', 'apps', 'web')}`) ? join(here, '..', '..', '..', 'apps', 'web') : here;
}

export interface WebBuild {
  readonly outDir: string;
  /** Bytes of each file written. */
  readonly sizes: Readonly<Record<string, number>>;
}

/**
 * Bundles the command-centre page (apps/web/src/main.ts and the parts of ECharts it imports) into one minified
 * script next to index.html and style.css: static files the app serves, nothing fetched from elsewhere.
 */
export async function buildWeb(outDir: string): Promise<WebBuild> {
  const src = sourceDir();
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(src, 'src', 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'iife',
    target: ['chrome110', 'firefox115', 'safari16'],
    legalComments: 'linked',
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(src, f), join(outDir, f));
  const sizes: Record<string, number> = {};
  for (const f of ['index.html', 'style.css', 'app.js']) sizes[f] = statSync(join(outDir, f)).size;
  return { outDir, sizes };
}

/** The repository's dist/web. */
export function webOutDir(): string {
  return join(sourceDir(), '..', '..', 'dist', 'web');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outDir, sizes } = await buildWeb(webOutDir());
  console.log(`page built into ${outDir}: ${Object.entries(sizes).map(([f, n]) => `${f} ${(n / 1024).toFixed(0)} KiB`).join(', ')}`);
}
