import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export interface Chromium {
  readonly browser: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Debian's Chromium (or CHROMIUM_PATH), headless, with a fresh profile of its own, for the page tests and the page
 * bench; `args` are added to the flags every run needs.
 */
export async function launchChromium(options: { viewport?: { width: number; height: number }; locale?: string; args?: readonly string[] } = {}): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'sentinel-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    ...(options.viewport && { viewport: options.viewport }),
    ...(options.locale && { locale: options.locale }),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', ...(options.args ?? [])],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
