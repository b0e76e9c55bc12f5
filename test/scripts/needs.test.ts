/**
 * What a test file needs, read from its source: the runner starts exactly that, so a file
 * that reads a server's variable without declaring it would run without the server.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { everything, NAMES, needsOf, SERVERS } from '../../scripts/servers/index.js';

/** Source text with a call, built so that the runner does not read it as this file's own need. */
const call = (helper: string, name: string, quote = "'") => `await ${helper}(${quote}${name}${quote});`;

it("reads a file's needs from its server() and installed() calls, running winning over installed", () => {
  const source = [
    call('installed', 'redis'),
    `const url = ${call('server', 'redis', '"')}`,
    call('installed', 'memcached'),
    `const nodes = ${call('server', 'redis-cluster')}`,
  ].join('\n');
  assert.deepEqual(
    [...needsOf(source)],
    [
      ['redis', 'running'],
      ['memcached', 'installed'],
      ['redis-cluster', 'running'],
    ],
  );
  assert.equal(needsOf("import { it } from 'node:test';").size, 0);
});

it('refuses a name that is no test server, naming the file and the known ones', () => {
  assert.throws(
    () => needsOf(call('server', 'redsi'), 'test/x.test.ts'),
    /^Error: test\/x\.test\.ts: server\('redsi'\) names no test server \(redis, redis-cluster, memcached, postgres, mongo, ferretdb, chromium, haproxy, nginx\)$/,
  );
});

it('gives the whole suite every server, running', () => {
  assert.deepEqual(
    [...everything()],
    NAMES.map((name) => [name, 'running']),
  );
});

it('finds every test file that reads a server variable declaring that server', () => {
  const files = readdirSync('test', { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.test.ts'),
  );
  assert.ok(files.length > 20, `found only ${files.length} test files`);
  const undeclared: string[] = [];
  for (const file of files) {
    const source = readFileSync(join('test', file), 'utf8');
    const needs = needsOf(source, file);
    for (const name of NAMES) {
      const variable = SERVERS[name].variable;
      if (variable && source.includes(`process.env.${variable}`) && needs.get(name) !== 'running') {
        undeclared.push(`${file} reads ${variable} without declaring ${name} with server()`);
      }
    }
  }
  assert.deepEqual(undeclared, []);
});
