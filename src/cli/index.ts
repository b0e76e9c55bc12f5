#!/usr/bin/env node
/**
 * The `unisession` command. Each subcommand is a module of its own, imported only when it
 * runs; add one by adding a line to `COMMANDS`.
 */
import { readFileSync } from 'node:fs';
import { explainError } from '../core/errors.js';
import { type Command, UsageError } from './command.js';

interface Entry {
  /** One line for `unisession --help`. */
  summary: string;
  load(): Promise<Command>;
}

const COMMANDS: Record<string, Entry> = {
  demo: {
    summary: 'run a demo cluster: shared sessions surviving node switches, kills and a rolling redeploy',
    load: async () => (await import('./demo/index.js')).demoCommand,
  },
  migrate: {
    summary: 'create the PostgreSQL tables of a group ahead of time',
    load: async () => (await import('./migrate-command.js')).migrateCommand,
  },
  monitor: {
    summary: 'serve the monitoring centre (web UI and JSON API) for the sessions of a group',
    load: async () => (await import('./monitor-command.js')).monitorCommand,
  },
  sessions: {
    summary: 'inspect and manage sessions from a terminal: stats, list, show, rm, revoke',
    load: async () => (await import('./sessions/index.js')).sessionsCommand,
  },
};

/** The installed package's version: package.json sits two levels up, from src/cli and from dist/cli alike. */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return [
    'unisession: one shared, durable session store for Node web apps',
    '',
    'Usage: unisession <command> [options]',
    '       unisession --version',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `unisession <command> --help` for the options of a command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    console.error(`unisession: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const command = await entry.load();
  if (!command.handlesHelp && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`unisession ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`unisession: ${explainError(error)}`);
    process.exitCode = 1;
  },
);
