/**
 * `unisession sessions show <id>`: one session as the monitor's detail page shows it: all
 * metadata, and every attribute decoded by the apps' codec, shared ones apart from each app's
 * private ones. Names that look like secrets are masked unless `--reveal`.
 */

import type { SessionView } from '../../core/admin-types.js';
import { UsageError } from '../command.js';
import { EXIT } from './exit.js';
import { duration, json, jsonSafe, pairs, readable, table, time } from './output.js';
import type { Subcommand } from './subcommand.js';

/** Attribute names whose values are masked, as the monitor's default `redact`. */
export const REDACTED_NAMES = /password|secret|token/i;

const MASK = '*** (masked: run with --reveal to show)';

export const showCommand: Subcommand = {
  help: [
    'Usage: unisession sessions show <id> --store <url> [--group <g>] [--app <code>] [--codec json|msgpack]',
    '',
    'Shows one session: created, last access and expiry, the client address and user agent,',
    'the creating and last serving node, the lifetime and state, and every attribute, decoded.',
    "With --app, only that app's session, with the shared attributes and that app's own.",
    '',
    'Options:',
    '  --reveal   show the values of attributes named like password, secret or token',
    '  --encoded  also show each value as stored (the codec text)',
  ],
  own: { reveal: { type: 'boolean' }, encoded: { type: 'boolean' } },
  filters: false,
  positionals: true,
  check(flags) {
    if (flags.positionals.length !== 1 || flags.positionals[0] === '') {
      throw new UsageError('show takes exactly one session id');
    }
  },
  async run(flags, manager, output) {
    const id = flags.positionals[0]!;
    const app = flags.common.app;
    const view = await manager.inspect(id);
    // An app sees only the sessions it created, as an app-scoped monitor credential does.
    if (!view || (app !== undefined && view.meta.app !== app)) {
      output.err(`No session ${id}${app === undefined ? '' : ` of app ${app}`}.`);
      return EXIT.notFound;
    }
    const attributes = visibleAttributes(view, app, flags.own.reveal === true);
    const now = Date.now();
    if (flags.common.json) {
      output.out(
        json({
          meta: view.meta,
          state: stateOf(view, now),
          attributes: attributes.map((attribute) => ({
            namespace: attribute.namespace,
            name: attribute.name,
            ...(attribute.masked
              ? { masked: true }
              : attribute.error !== undefined
                ? { error: attribute.error }
                : { value: jsonSafe(attribute.value) }),
            ...(flags.own.encoded && !attribute.masked ? { encoded: attribute.encoded } : {}),
          })),
        }),
      );
      return EXIT.ok;
    }
    output.out(metaTable(view, now));
    output.out('');
    if (attributes.length === 0) {
      output.out('No attributes.');
      return EXIT.ok;
    }
    const headers = ['SCOPE', 'NAME', 'VALUE', ...(flags.own.encoded ? ['ENCODED'] : [])];
    const rows = attributes.map((attribute) => [
      attribute.namespace === '' ? 'shared' : `app ${attribute.namespace}`,
      attribute.name,
      attribute.masked
        ? MASK
        : attribute.error !== undefined
          ? `(cannot decode: ${attribute.error})`
          : readable(attribute.value),
      ...(flags.own.encoded ? [attribute.masked ? MASK : attribute.encoded] : []),
    ]);
    output.out(table(headers, rows));
    return EXIT.ok;
  },
};

type Attribute = SessionView['attributes'][number] & { masked: boolean };

/** Shared attributes first, then each app's private ones; with `app`, only that app's. */
function visibleAttributes(view: SessionView, app: string | undefined, reveal: boolean): Attribute[] {
  return view.attributes
    .filter((attribute) => app === undefined || attribute.namespace === '' || attribute.namespace === app)
    .map((attribute) => ({ ...attribute, masked: !reveal && REDACTED_NAMES.test(attribute.name) }))
    .sort((a, b) =>
      a.namespace === b.namespace ? a.name.localeCompare(b.name) : a.namespace.localeCompare(b.namespace),
    );
}

function stateOf(view: SessionView, now: number): 'live' | 'expired' {
  return view.meta.expiresAt !== null && view.meta.expiresAt <= now ? 'expired' : 'live';
}

function metaTable(view: SessionView, now: number): string {
  const { meta } = view;
  const expires =
    meta.expiresAt === null ? 'never' : `${time(meta.expiresAt)} (in ${duration(meta.expiresAt - now)})`;
  return pairs([
    ['Session', meta.id],
    ['App', meta.app],
    ['Principal', meta.principal ?? '- (anonymous)'],
    ['State', stateOf(view, now)],
    ['Created', `${time(meta.createdAt)} (${duration(now - meta.createdAt)} ago)`],
    ['Last access', `${time(meta.lastAccessedAt)} (${duration(now - meta.lastAccessedAt)} ago)`],
    ['Expires', expires],
    [
      'Lifetime',
      meta.maxInactive === 0 ? 'no inactivity limit' : `${duration(meta.maxInactive)} of inactivity`,
    ],
    ['Absolute end', meta.absoluteExpiresAt === null ? 'none' : time(meta.absoluteExpiresAt)],
    ['Client address', meta.clientAddress || '-'],
    ['User agent', meta.userAgent || '-'],
    ['Created on', meta.host || '-'],
    ['Last served by', meta.lastHost || '-'],
    ['Created at URL', meta.createdUrl || '-'],
    ['Last URL', meta.lastUrl || '-'],
  ]);
}
