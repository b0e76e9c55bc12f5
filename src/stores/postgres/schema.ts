import { invalidOption, is } from '../../core/validate.js';
import { storeGroup } from '../kit/group.js';
import { addedColumnsSql, indexesSql, type SqlTables, sqlTables, tablesSql } from '../sql/schema.js';

/** The table names of one group, quoted and schema-qualified, ready for SQL. */
export type PostgresTables = SqlTables;

const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
export const isSchema = is.matching(SCHEMA_PATTERN, `a schema name matching ${SCHEMA_PATTERN}`);

function checkSchema(schema: string | undefined): string | undefined {
  const expected = schema === undefined ? undefined : isSchema(schema);
  if (expected !== undefined) throw invalidOption('postgresStore', 'schema', expected, schema);
  return schema;
}

/**
 * Builds the quoted table names; validates `group` and `schema`, which end up in SQL (always
 * double-quoted, so a group such as `my-portal` is a legal identifier).
 */
export function postgresTables(options: { group?: string; schema?: string }): PostgresTables {
  return sqlTables(storeGroup('postgresStore', options.group), checkSchema(options.schema));
}

/**
 * The DDL for one group, as a single script: one transaction that takes an advisory lock
 * first, because concurrent `CREATE TABLE IF NOT EXISTS` of the same table can still fail
 * (a race on the catalog's unique index); the lock makes the second process wait and then
 * find everything in place. Every statement is idempotent, and a table made by an older
 * release gets the columns added since (ALTER TABLE ADD COLUMN IF NOT EXISTS, with defaults).
 */
export function postgresSchemaSql(options: { group?: string; schema?: string }): string {
  const tables = postgresTables(options);
  const group = storeGroup('postgresStore', options.group);
  const lockKey = `unisession:${options.schema ?? ''}:${group}`;
  return `
    BEGIN;
    SELECT pg_advisory_xact_lock(hashtext('${lockKey}'));
    ${options.schema ? `CREATE SCHEMA IF NOT EXISTS "${options.schema}";` : ''}
    ${tablesSql(tables, { integer: 'BIGINT', attributesSuffix: '', serial: 'BIGSERIAL PRIMARY KEY' })}
    ${addedColumnsSql(tables)}
    ${indexesSql(group, tables)}
    COMMIT;`;
}
