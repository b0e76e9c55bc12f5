/**
 * The CLI's actions go to the group's audit log, as the monitor's do, so the monitor's audit
 * page shows who deleted what from a terminal too. The actor is `cli:<os user>@<host>`: the
 * CLI has no credential, and the operating system's user is the best "who" it knows. The
 * action names are the monitor's (`delete`, `delete-selected`, `delete-where`,
 * `revoke-principal`). A log that cannot be written never undoes the action: it is reported
 * on stderr, and the exit code stays the action's.
 */
import { hostname, userInfo } from 'node:os';
import type { SessionManager } from '../../core/manager.js';
import type { AuditEntry } from '../../core/store.js';
import type { Output } from './output.js';

function actor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (a container's arbitrary uid): keep "unknown".
  }
  return `cli:${user}@${hostname()}`;
}

export async function audit(
  manager: SessionManager,
  output: Output,
  entry: {
    app: string | undefined;
    action: string;
    target: string;
    count: number;
    detail?: AuditEntry['detail'];
  },
): Promise<void> {
  // The manager's own `audit`: into the store's log when it has one, and the `audit` event.
  if (!manager.store.audit) return;
  try {
    await manager.audit({
      at: Date.now(),
      actor: actor(),
      scope: entry.app ?? 'all',
      action: entry.action,
      target: entry.target,
      count: entry.count,
      detail: { via: 'cli', ...entry.detail },
    });
  } catch {
    output.err('Warning: the action is done, but the audit log could not be written.');
  }
}
