/**
 * `unisession sessions revoke <principal>`: signs a user out everywhere, as the monitor's
 * "sign out everywhere" does: every session of the principal is deleted with reason `revoked`.
 */

import type { SessionManager } from '../../core/manager.js';
import { UsageError } from '../command.js';
import { audit } from './audit.js';
import { EXIT } from './exit.js';
import { json } from './output.js';
import type { Subcommand } from './subcommand.js';

export const revokeCommand: Subcommand = {
  help: [
    'Usage: unisession sessions revoke <principal> --store <url> [--group <g>] [--app <code>] [--except <id>] [--dry-run]',
    '',
    "Deletes every session of the user (the principal), so that the user's next request, on",
    "any node and any app, finds no session. With --app, only that app's sessions.",
    '',
    'Options:',
    '  --except <id>  keep this one session (the one the user is using, say)',
    '  --dry-run      only count the sessions; delete nothing',
    '',
    'Exit code 1 when the user has no session.',
  ],
  own: { except: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  filters: false,
  positionals: true,
  check(flags) {
    if (flags.positionals.length !== 1 || flags.positionals[0] === '') {
      throw new UsageError('revoke takes exactly one principal (user id)');
    }
    if (flags.own.except === '') throw new UsageError('--except must be a session id');
  },
  async run(flags, manager, output) {
    const principal = flags.positionals[0]!;
    const except = flags.own.except as string | undefined;
    const app = flags.common.app;
    const count =
      flags.own['dry-run'] === true
        ? (await idsOf(manager, principal, app)).filter((id) => id !== except).length
        : await revoke(manager, principal, app, except);
    if (!flags.own['dry-run'] && count > 0) {
      await audit(manager, output, { app, action: 'revoke-principal', target: principal, count });
    }
    if (flags.common.json)
      output.out(json({ principal, revoked: flags.own['dry-run'] ? 0 : count, matched: count }));
    else if (flags.own['dry-run'])
      output.out(
        `${principal} has ${count} session${count === 1 ? '' : 's'}; nothing was deleted (dry run).`,
      );
    else output.out(`Signed ${principal} out of ${count} session${count === 1 ? '' : 's'}.`);
    return count === 0 ? EXIT.notFound : EXIT.ok;
  },
};

async function revoke(
  manager: SessionManager,
  principal: string,
  app: string | undefined,
  except: string | undefined,
) {
  // Everywhere: the principal index, so it works on every store that has one.
  if (app === undefined)
    return manager.revokePrincipal(principal, { reason: 'revoked', ...(except ? { except } : {}) });
  const ids = (await idsOf(manager, principal, app)).filter((id) => id !== except);
  return ids.length === 0 ? 0 : manager.destroyMany(ids, 'revoked');
}

/** The ids of the principal's live sessions (of one app): a user has a handful, so a few pages at most. */
async function idsOf(manager: SessionManager, principal: string, app: string | undefined): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await manager.list({
      principal,
      ...(app ? { app } : {}),
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    ids.push(...page.sessions.map((meta) => meta.id));
    cursor = page.next;
  } while (cursor !== undefined);
  return ids;
}
