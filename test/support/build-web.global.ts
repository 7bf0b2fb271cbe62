import { buildWeb, webOutDir } from '../../apps/web/build.js';

/** The tests serve the page as npm start does: bundled into dist/web first. */
export default async function setup(): Promise<void> {
  await buildWeb(webOutDir());
}
