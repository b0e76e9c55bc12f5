import { parseArgs } from 'node:util';
import { type Command, UsageError } from './command.js';
import { migrate } from './migrate.js';

/** `unisession migrate`: creates the PostgreSQL tables ahead of time (see `migrate()`). */
export const migrateCommand: Command = {
  usage: [
    'Usage: unisession migrate --url <postgres://...> [--group <group>] [--schema <schema>]',
    '',
    'Creates the PostgreSQL tables and indexes of a group, for deployments whose app user',
    'may not run DDL (postgresStore({ createSchema: false })). Safe to run again.',
    '',
    '  --url     the PostgreSQL connection string (default: $DATABASE_URL)',
    "  --group   the group whose tables to create (default: 'unisession')",
    '  --schema  the schema to create them in (default: the search_path)',
  ].join('\n'),
  async run(argv) {
    let values: { url?: string; group?: string; schema?: string };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { url: { type: 'string' }, group: { type: 'string' }, schema: { type: 'string' } },
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const url = values.url ?? process.env.DATABASE_URL;
    if (!url) throw new UsageError('--url is required (or set DATABASE_URL)');
    await migrate({ url, group: values.group, schema: values.schema });
    console.log(`unisession migrate: tables of group "${values.group ?? 'unisession'}" are in place`);
    return 0;
  },
};
