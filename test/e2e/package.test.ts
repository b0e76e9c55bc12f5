/**
 * The package as a user gets it: `npm pack`, `npm install <tarball>` into an empty project,
 * then what that project can import, require, typecheck and run. Those checks read only the
 * installed copy under the project's node_modules, never src/.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../helpers/server.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
};
/** The package's public names: `unisession`, `unisession/express`, ... (package.json aside). */
const ENTRIES = Object.keys(manifest.exports)
  .filter((subpath) => subpath !== './package.json')
  .map((subpath) => `unisession${subpath.slice(1)}`);
/** Files that exist in dist/ but are no public entry: an app must not be able to import them. */
const INTERNAL = [
  'unisession/stores/sql-common',
  'unisession/stores/redis/scripts',
  'unisession/core/session',
  'unisession/cli/migrate',
  'unisession/dist/index.js',
  'unisession/src/index.ts',
];

// npm, run from `npm test`, exports its own settings for this package (npm_package_*,
// npm_config_local_prefix, ...); the project's npm must see only its own directory.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !/^npm_(package_|lifecycle_|config_local_prefix|command)/.test(name) && name !== 'INIT_CWD',
  ),
);
const exec = promisify(execFile);
const run = (file: string, args: string[], cwd: string) =>
  exec(file, args, { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });

let work: string;
let project: string;
let tarballFiles: string[];
const installed = () => join(project, 'node_modules', 'unisession');

/** Makes a package the repository has installed visible to the project, as `npm install <name>` would, offline. */
function provide(name: string): void {
  const target = join(project, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  if (!existsSync(target)) symlinkSync(join(REPO, 'node_modules', name), target, 'dir');
}

/** Runs an ES module in the project, as the project's own code. */
async function inProject(source: string): Promise<string> {
  const file = join(project, `check-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  return (await run(process.execPath, [file], project)).stdout;
}

it("tsconfig.json maps each public name onto its entry's source, so the type tests see the export map", () => {
  const { compilerOptions } = JSON.parse(readFileSync(join(REPO, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  const expected = Object.fromEntries(
    Object.entries(manifest.exports)
      .filter(([subpath]) => subpath !== './package.json')
      .map(([subpath, target]) => [
        `unisession${subpath.slice(1)}`,
        [
          (typeof target === 'string' ? target : target.default)
            .replace(/^\.\/dist\//, './src/')
            .replace(/\.js$/, '.ts'),
        ],
      ]),
  );
  assert.deepEqual(compilerOptions.paths, expected);
});

describe('the package as a user installs it', () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'unisession-package-'));
    project = join(work, 'app');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }),
    );
    // `npm pack` would build through prepack; building first keeps its JSON output clean.
    await run('npm', ['run', 'build', '--silent'], REPO);
    const { stdout } = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', work],
      REPO,
    );
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(packed);
    tarballFiles = packed.files.map((file) => file.path);
    await run(
      'npm',
      ['install', join(work, packed.filename), '--prefer-offline', '--no-audit', '--no-fund'],
      project,
    );
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships LICENSE, README.md, package.json and dist/, and no sources, tests or docs', () => {
    for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/cli/index.js']) {
      assert.ok(tarballFiles.includes(file), `${file} is in the tarball`);
    }
    const stray = tarballFiles.filter((file) => !/^(dist\/|LICENSE$|README\.md$|package\.json$)/.test(file));
    assert.deepEqual(stray, []);
    assert.match(
      readFileSync(join(installed(), 'LICENSE'), 'utf8'),
      /MIT License[\s\S]*the unisession authors/,
    );
  });

  it('has every file its export map names', () => {
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      for (const file of typeof target === 'string' ? [target] : [target.types, target.default]) {
        assert.ok(existsSync(join(installed(), file)), `${subpath} → ${file}`);
      }
    }
  });

  it('has a README whose links work on the npm page: absolute, or anchors in the README', () => {
    const readme = readFileSync(join(installed(), 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '');
    assert.ok(targets.length > 10, 'the README has links');
    assert.deepEqual(
      targets.filter((target) => !/^(https:\/\/|#)/.test(target)),
      [],
      'relative links point at files that are not in the package',
    );
  });

  it('lets every public entry be imported, and required (Node >= 20.19 requires ES modules)', async () => {
    // unisession/fastify loads fastify-plugin with the module; a Fastify app installs it.
    provide('fastify-plugin');
    const output = await inProject(`
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const entries = ${JSON.stringify(ENTRIES)};
      const result = {};
      for (const name of entries) {
        const imported = Object.keys(await import(name)).sort();
        const required = Object.keys(require(name)).filter((key) => key !== '__esModule' && key !== 'module.exports').sort();
        result[name] = { imported, required };
      }
      console.log(JSON.stringify(result));`);
    const result = JSON.parse(output) as Record<string, { imported: string[]; required: string[] }>;
    for (const name of ENTRIES) {
      const entry = result[name];
      assert.ok(entry && entry.imported.length > 0, `${name} exports something`);
      assert.deepEqual(entry.required, entry.imported, `require('${name}') gives the same exports`);
    }
    assert.ok(result.unisession?.imported.includes('createSessionManager'));
    assert.ok(result['unisession/migrate']?.imported.includes('migrate'));
    assert.ok(result['unisession/codec/msgpack']?.imported.includes('msgpackCodec'));
  });

  it('refuses internal files with ERR_PACKAGE_PATH_NOT_EXPORTED', async () => {
    const output = await inProject(`
      const codes = {};
      for (const name of ${JSON.stringify(INTERNAL)}) {
        codes[name] = await import(name).then(() => 'imported', (error) => error.code);
      }
      console.log(JSON.stringify(codes));`);
    assert.deepEqual(
      JSON.parse(output),
      Object.fromEntries(INTERNAL.map((name) => [name, 'ERR_PACKAGE_PATH_NOT_EXPORTED'])),
    );
  });

  it('gives every public entry its types, and none to an internal file', async () => {
    provide('@types/node');
    const lines = ENTRIES.map((name, i) => `import * as entry${i} from '${name}';`);
    lines.push(`export const all = [${ENTRIES.map((_, i) => `entry${i}`).join(', ')}];`);
    lines.push("import { createSessionManager, type SessionOptions } from 'unisession';");
    lines.push("export const options: SessionOptions = { app: 'shop' };");
    lines.push('export const make: typeof createSessionManager = createSessionManager;');
    lines.push('// @ts-expect-error not exported: TS finds no module by this name');
    lines.push("import type * as internal from 'unisession/stores/sql-common';");
    lines.push('export type Internal = typeof internal;');
    writeFileSync(join(project, 'consumer.ts'), `${lines.join('\n')}\n`);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], project).catch((error: { stdout: string }) => {
      assert.fail(`the consumer does not typecheck against the installed package:\n${error.stdout}`);
    });
  });

  it('runs `npx unisession --version` (and -v), which prints the version', async () => {
    for (const flag of ['--version', '-v']) {
      const { stdout } = await run('npx', ['--no-install', 'unisession', flag], project);
      assert.equal(stdout.trim(), manifest.version);
    }
  });

  it('has no source map that points at a file it neither ships nor carries', () => {
    const dist = join(installed(), 'dist');
    const scripts = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.js'),
    );
    assert.ok(scripts.length > 20);
    const problems: string[] = [];
    for (const script of scripts) {
      const path = join(dist, script);
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(path, 'utf8'))?.[1];
      if (url === undefined) continue;
      const mapPath = resolve(dirname(path), url);
      if (!existsSync(mapPath)) {
        problems.push(`${script}: its map ${url} is missing`);
        continue;
      }
      const map = JSON.parse(readFileSync(mapPath, 'utf8')) as {
        sources: string[];
        sourcesContent?: unknown[];
      };
      map.sources.forEach((source, i) => {
        const carried = typeof map.sourcesContent?.[i] === 'string';
        if (!carried && !existsSync(resolve(dirname(mapPath), source))) problems.push(`${script}: ${source}`);
      });
    }
    assert.deepEqual(problems, []);
  });

  it('runs `unisession demo` from the installed package: first naming what to install, then for real', async () => {
    // Without express and http-proxy-3 (optional peers), the demo says what to install.
    await assert.rejects(
      run('npx', ['--no-install', 'unisession', 'demo', '--port', String(await freePort())], project),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /The demo needs express and http-proxy-3, not installed here/);
        assert.match(
          error.stderr,
          /npx -p unisession -p express -p better-sqlite3 -p http-proxy-3 unisession demo/,
        );
        return true;
      },
    );
    for (const name of ['express', 'better-sqlite3', 'http-proxy-3']) provide(name);
    const port = await freePort();
    const bin = join(project, 'node_modules', '.bin', 'unisession');
    const demo = spawn(
      bin,
      ['demo', '--port', String(port), '--nodes', '1', '--store', `sqlite:${join(work, 'demo.sqlite')}`],
      {
        cwd: project,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      await printed(demo, /Open\s+http:\/\/127\.0\.0\.1:\d+/);
      const response = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /node-1/);
    } finally {
      const exited = once(demo, 'exit');
      demo.kill('SIGTERM');
      await exited;
    }
    assert.equal(demo.exitCode, 0);
  });
});

/** Resolves once the process has printed `pattern` on stdout; rejects if it exits first. */
function printed(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  let output = '';
  return new Promise((resolvePrinted, reject) => {
    const timer = setTimeout(() => reject(new Error(`not printed in time:\n${output}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolvePrinted();
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
}
