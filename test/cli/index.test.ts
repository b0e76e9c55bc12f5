import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args]);
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

for (const flag of ['--version', '-v']) {
  it(`unisession ${flag} prints the package's version and exits 0`, async () => {
    const { stdout, stderr } = await cli(flag);
    assert.equal(stdout, `${version}\n`);
    assert.equal(stderr, '');
  });
}

it('unisession --help mentions --version', async () => {
  const { stdout } = await cli('--help');
  assert.match(stdout, /unisession --version/);
});
