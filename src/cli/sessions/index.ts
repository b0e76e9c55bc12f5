/**
 * `unisession sessions stats|list|show|rm|revoke`: the monitoring centre from a terminal,
 * over any store a `--store` URL names. Each sub-command is a module of its own; this one
 * dispatches, prints help, and turns errors into one line and an exit code (exit.ts).
 */
import { type Command, UsageError } from '../command.js';
import { connect, urlSecrets } from './connect.js';
import { EXIT, failure } from './exit.js';
import { COMMON_HELP, FILTER_HELP, type ParsedFlags, parseFlags } from './flags.js';
import { type Output, processOutput } from './output.js';
import type { Subcommand } from './subcommand.js';

const SUBCOMMANDS: Record<string, () => Promise<Subcommand>> = {
  stats: async () => (await import('./stats.js')).statsCommand,
  list: async () => (await import('./list.js')).listCommand,
  show: async () => (await import('./show.js')).showCommand,
  rm: async () => (await import('./rm.js')).rmCommand,
  revoke: async () => (await import('./revoke.js')).revokeCommand,
};

/** One line each for `unisession sessions --help`, here so the overview loads no sub-command. */
const SUMMARIES: Record<keyof typeof SUBCOMMANDS, string> = {
  stats: 'live sessions, signed-in sessions, online users, histograms, per node, store and sweeper health',
  list: 'the sessions matching filters, a page at a time (a table, --json or --csv)',
  show: 'one session: its metadata and every attribute, decoded (secrets masked)',
  rm: 'delete sessions by id, or every session matching filters (--where, with --dry-run first)',
  revoke: 'sign a user out everywhere: delete every session of a principal',
};

const EXIT_HELP = [
  'Exit codes:',
  `  ${EXIT.ok}  done`,
  `  ${EXIT.notFound}  not found, or nothing matched (show, rm, revoke)`,
  `  ${EXIT.usage}  bad flags or values: nothing was read or changed`,
  `  ${EXIT.unavailable}  the store is unavailable (or its driver is not installed)`,
  `  ${EXIT.unsupported}  the store cannot do this (memcached cannot list or count)`,
  `  ${EXIT.failed}  an unexpected error`,
];

function overview(): string {
  const width = Math.max(...Object.keys(SUMMARIES).map((name) => name.length));
  return [
    'Usage: unisession sessions <stats|list|show|rm|revoke> --store <url> [--group <g>] [--app <code>] [options]',
    '',
    'Inspect and manage the sessions of a group, as the monitor does, from a terminal.',
    '',
    'Sub-commands:',
    ...Object.entries(SUMMARIES).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    ...COMMON_HELP,
    '',
    ...EXIT_HELP,
    '',
    'Run `unisession sessions <sub-command> --help` for its options and filters.',
  ].join('\n');
}

function helpOf(sub: Subcommand): string {
  return [
    ...sub.help,
    '',
    ...COMMON_HELP,
    ...(sub.filters ? ['', ...FILTER_HELP] : []),
    '',
    ...EXIT_HELP,
  ].join('\n');
}

async function lookUp(name: string | undefined): Promise<Subcommand | undefined> {
  return name !== undefined && Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name]!() : undefined;
}

/** Runs `unisession sessions <argv>`, writing to `output`; resolves to the exit code. */
export async function runSessions(argv: string[], output: Output = processOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? output.err : output.out)(overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const sub = await lookUp(name);
  if (!sub) {
    output.err(`unisession sessions: unknown sub-command "${name}"\n\n${overview()}`);
    return EXIT.usage;
  }
  let flags: ParsedFlags | undefined;
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      output.out(helpOf(sub));
      return EXIT.ok;
    }
    flags = parseFlags(rest, sub);
    sub.check?.(flags);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(
      `unisession sessions ${name}: ${error.message}\n\nRun \`unisession sessions ${name} --help\` for its options.`,
    );
    return EXIT.usage;
  }
  const secrets = urlSecrets(flags.common.store);
  let manager: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    manager = await connect(flags.common);
    return await sub.run(flags, manager, output);
  } catch (error) {
    const { code, message } = failure(error, secrets);
    output.err(`unisession sessions ${name}: ${message}`);
    return code;
  } finally {
    // Closing a store that never connected is quick; a close failure changes nothing the user asked for.
    await manager?.close().catch(() => {});
  }
}

/** The `sessions` entry of the `unisession` command. */
export const sessionsCommand: Command = {
  usage: overview(),
  handlesHelp: true,
  run: (argv) => runSessions(argv),
};
