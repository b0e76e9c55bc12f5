import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runWithoutPackage, sourcePath } from '../helpers/without-package.js';

/**
 * Runs `unisession demo` in a process where `packageName` is not installed, and returns its
 * exit code and what it printed on stderr. The check comes before anything listens or forks;
 * should it regress, the store check after it fails at once (nothing listens on port 1), so
 * the demo never starts.
 */
async function demoWithout(packageName: string): Promise<{ code: number; stderr: string }> {
  const stdout = await runWithoutPackage(
    packageName,
    `import { demoCommand } from ${JSON.stringify(sourcePath('cli/demo/index.ts'))};
    const lines = [];
    console.error = (line) => lines.push(String(line));
    const code = await demoCommand.run(['--nodes', '1', '--store', 'redis://127.0.0.1:1']);
    console.log(JSON.stringify({ code, stderr: lines.join('\\n') }));
    process.exit(0);`,
  );
  return JSON.parse(stdout) as { code: number; stderr: string };
}

for (const packageName of ['http-proxy-3', 'express']) {
  it(`unisession demo without ${packageName} says what to install, and exits 1`, async () => {
    const { code, stderr } = await demoWithout(packageName);
    assert.equal(code, 1);
    assert.match(
      stderr,
      new RegExp(`The demo needs ${packageName}, not installed here: npm install ${packageName}`),
    );
    assert.match(
      stderr,
      /npx -p unisession -p express -p better-sqlite3 -p http-proxy-3 unisession demo/,
      'the command that runs the demo from anywhere',
    );
  });
}
