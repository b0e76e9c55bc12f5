/**
 * `unisession sessions rm`: deletes sessions, by id or by query. A delete by query counts
 * first: `--dry-run` only counts, and without `--yes` it asks (on a terminal) or refuses.
 * Each deleted session fires the normal `destroyed` event, so the user's next request, on
 * any node of any app, finds it gone.
 */
import { createInterface } from 'node:readline/promises';
import type { SessionManager } from '../../core/manager.js';
import { UsageError } from '../command.js';
import { audit } from './audit.js';
import { EXIT } from './exit.js';
import type { ParsedFlags } from './flags.js';
import { json, type Output } from './output.js';
import type { Subcommand } from './subcommand.js';

export const rmCommand: Subcommand = {
  help: [
    'Usage: unisession sessions rm <id...> --store <url> [--group <g>] [--app <code>]',
    '       unisession sessions rm --where <filters> [--dry-run] [--yes] --store <url> [--group <g>] [--app <code>]',
    '',
    'Deletes the sessions with these ids, or with --where every live session matching the',
    'filters (at least one filter). Their users are signed out on their next request.',
    "With --app, only that app's sessions are deleted; other ids count as not found.",
    '',
    'Options:',
    '  --where     delete by the filters instead of by id',
    '  --dry-run   only count what --where matches; delete nothing',
    '  --yes       do not ask before a --where delete (needed when not on a terminal)',
    '',
    'Exit code 1 when an id was not found, or nothing matched.',
  ],
  own: { where: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } },
  filters: true,
  positionals: true,
  check(flags) {
    if (flags.own.where) {
      if (flags.positionals.length > 0)
        throw new UsageError('give either ids or --where with filters, not both');
      if (!flags.filtered) {
        throw new UsageError(
          '--where needs at least one filter (e.g. --principal, --idle-longer-than); to delete every session, say so with a filter such as --created-before <now>',
        );
      }
      return;
    }
    if (flags.filtered) throw new UsageError('filters select sessions only with --where');
    if (flags.own['dry-run']) throw new UsageError('--dry-run goes with --where');
    if (flags.positionals.length === 0) throw new UsageError('rm needs session ids, or --where with filters');
    if (flags.positionals.some((id) => id === '')) throw new UsageError('a session id must not be empty');
  },
  run: (flags, manager, output) =>
    flags.own.where ? removeWhere(flags, manager, output) : removeIds(flags, manager, output),
};

async function removeIds(flags: ParsedFlags, manager: SessionManager, output: Output): Promise<number> {
  const ids = [...new Set(flags.positionals)];
  const app = flags.common.app;
  const deleted: string[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    // An app deletes only what it created: look first, and treat another app's session as absent.
    if (app !== undefined) {
      const view = await manager.inspect(id);
      if (!view || view.meta.app !== app) {
        missing.push(id);
        continue;
      }
    }
    // `revoked`, as the monitor's delete: an administrator ended it, not the app.
    (await manager.destroy(id, 'revoked')) ? deleted.push(id) : missing.push(id);
  }
  if (deleted.length > 0) {
    await audit(manager, output, {
      app,
      ...(ids.length === 1
        ? { action: 'delete', target: ids[0]! }
        : { action: 'delete-selected', target: `${ids.length} ids` }),
      count: deleted.length,
    });
  }
  if (flags.common.json) output.out(json({ deleted, notFound: missing }));
  else {
    output.out(`Deleted ${deleted.length} of ${ids.length} session${ids.length === 1 ? '' : 's'}.`);
    if (missing.length > 0) output.err(`Not found: ${missing.join(' ')}`);
  }
  return missing.length === 0 ? EXIT.ok : EXIT.notFound;
}

async function removeWhere(flags: ParsedFlags, manager: SessionManager, output: Output): Promise<number> {
  const query = flags.query;
  const matched = await manager.destroyWhere(query, { dryRun: true });
  const report = (deleted: number, dryRun: boolean) => {
    if (flags.common.json) output.out(json({ matched, deleted, dryRun }));
    else if (dryRun)
      output.out(`${matched} session${matched === 1 ? '' : 's'} match; nothing was deleted (dry run).`);
    else output.out(`Deleted ${deleted} session${deleted === 1 ? '' : 's'}.`);
  };
  if (matched === 0) {
    report(0, flags.own['dry-run'] === true);
    return EXIT.notFound;
  }
  if (flags.own['dry-run']) {
    report(0, true);
    return EXIT.ok;
  }
  if (!flags.own.yes && !(await confirm(`Delete ${matched} session${matched === 1 ? '' : 's'}? [y/N] `))) {
    output.err(
      `${matched} session${matched === 1 ? '' : 's'} match; nothing was deleted. Add --yes to delete them (--dry-run only counts).`,
    );
    return EXIT.usage;
  }
  const deleted = await manager.destroyWhere(query, { reason: 'revoked' });
  await audit(manager, output, {
    app: flags.common.app,
    action: 'delete-where',
    target: describeQuery(query),
    count: deleted,
  });
  report(deleted, false);
  return EXIT.ok;
}

/** The filters as the audit log shows them: `principal=alice idleLongerThan=1800000`. */
function describeQuery(query: ParsedFlags['query']): string {
  return Object.entries(query)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
}

/** Asks on the terminal; false when stdin is not one (a script must say --yes). */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}
