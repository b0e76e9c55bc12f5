/**
 * Not a server: the headless browser the demo's end-to-end test drives (playwright-core
 * never downloads one). Installing it is all there is; CHROMIUM_PATH tells the test where.
 */
import { existsSync } from 'node:fs';
import { statusLine, type TestServer, which } from './kit.js';

/** CHROMIUM_PATH when set (and there), else the one on PATH. */
function path(): string | undefined {
  const given = process.env.CHROMIUM_PATH;
  if (given) return existsSync(given) ? given : undefined;
  return which('chromium');
}

export const chromium: TestServer = {
  name: 'chromium',
  summary: 'headless Chromium for the demo test (CHROMIUM_PATH); installed, never started',
  missing: () => (path() ? [] : ['chromium']),
  installedPath: path,
  async status() {
    const found = path();
    return {
      lines: [statusLine('chromium', found ?? '', found ? 'installed' : 'MISSING')],
      up: found !== undefined,
    };
  },
  env: (): Record<string, string> => {
    const found = path();
    return found ? { CHROMIUM_PATH: found } : {};
  },
};
