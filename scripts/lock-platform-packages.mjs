#!/usr/bin/env node
/**
 * Adds to package-lock.json the entries npm could not record for optional, platform-specific
 * binaries (e.g. @biomejs/cli-darwin-arm64) because the registry this project is developed
 * against does not carry other platforms' packages. Without them `npm ci` refuses the lock
 * ("Missing: ... from lock file"). The entries carry `os`/`cpu`/`libc`, so npm skips them on
 * every other platform without downloading anything. Run it after `npm install` changes the lock.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const OS = ['android', 'darwin', 'linux', 'win32', 'freebsd', 'openbsd', 'sunos', 'aix', 'netbsd'];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'];

let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `${path ? `${path}/` : ''}node_modules/${name}`.replace(
      /^node_modules\/(.*\/)?node_modules\//,
      'node_modules/',
    );
    if (lock.packages[`node_modules/${name}`] || lock.packages[target]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((part) => OS.includes(part));
    const cpu = parts.find((part) => CPU.includes(part));
    if (!os || !cpu) continue; // not a platform binary: leave it to npm
    lock.packages[`node_modules/${name}`] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [os],
      cpu: [cpu],
      ...(parts.includes('musl') ? { libc: ['musl'] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platform-packages: added ${added} entries`);
