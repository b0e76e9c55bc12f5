/**
 * Not servers either: the load balancers the end-to-end failover tests put in front of their
 * own Express nodes (test/e2e/haproxy.test.ts, nginx.test.ts). Each test writes its own config
 * and runs a private copy on free ports, so the runner only installs the Debian package.
 */
import { accessSync, constants } from 'node:fs';
import { statusLine, type TestServer, which } from './kit.js';

/** On PATH, or in /usr/sbin, where Debian puts both (and which a non-root PATH may lack). */
function find(program: string): string | undefined {
  const found = which(program);
  if (found) return found;
  try {
    accessSync(`/usr/sbin/${program}`, constants.X_OK);
    return `/usr/sbin/${program}`;
  } catch {
    return undefined;
  }
}

function installedOnly(program: string, debianPackage: string, summary: string): TestServer {
  return {
    name: program,
    summary,
    missing: () => (find(program) ? [] : [debianPackage]),
    installedPath: () => find(program),
    async status() {
      const found = find(program);
      return {
        lines: [statusLine(program, found ?? '', found ? 'installed' : 'MISSING')],
        up: found !== undefined,
      };
    },
    env: (): Record<string, string> => ({}),
  };
}

export const haproxy = installedOnly(
  'haproxy',
  'haproxy',
  'haproxy (Debian package) for the failover e2e test; installed, each test runs its own',
);

export const nginx = installedOnly(
  'nginx',
  'nginx-light',
  'nginx (Debian nginx-light) for the load-balancer e2e test; installed, each test runs its own',
);
