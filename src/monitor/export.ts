import type { SessionQuery } from '../core/admin-types.js';
import type { Actor, MonitorService, SessionRow } from './service.js';

/*
 * The export of a search, as CSV or JSON, streamed page by page (1000 sessions a page) so
 * the monitor's memory stays flat however many sessions match.
 */

const COLUMNS = [
  'id',
  'app',
  'principal',
  'createdAt',
  'lastAccessedAt',
  'expiresAt',
  'clientAddress',
  'host',
  'lastHost',
  'createdUrl',
  'lastUrl',
  'userAgent',
] as const;

/** RFC 4180 quoting; a cell a spreadsheet would run as a formula gets a leading quote. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function time(value: number | null): string {
  return value === null ? '' : new Date(value).toISOString();
}

function csvRow(row: SessionRow, display: readonly string[]): string {
  const { meta } = row;
  const cells = [
    meta.id,
    meta.app,
    meta.principal ?? '',
    time(meta.createdAt),
    time(meta.lastAccessedAt),
    time(meta.expiresAt),
    meta.clientAddress,
    meta.host,
    meta.lastHost,
    meta.createdUrl,
    meta.lastUrl,
    meta.userAgent,
    ...display.map((name) => {
      const value = row.display[name];
      return value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    }),
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export function exportSessions(
  service: MonitorService,
  actor: Actor,
  query: SessionQuery,
  format: 'csv' | 'json',
  display: readonly string[],
  onError: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor = query.cursor;
  let first = true;
  let rowsWritten = 0;
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return;
      try {
        const page = await service.search(actor, { ...query, limit: 1000, ...(cursor ? { cursor } : {}) });
        let text = '';
        if (first) text += format === 'csv' ? `${[...COLUMNS, ...display].map(csvCell).join(',')}\r\n` : '[';
        for (const row of page.rows) {
          if (format === 'csv') text += csvRow(row, display);
          else
            text += `${rowsWritten === 0 ? '' : ','}\n${JSON.stringify({ ...row.meta, display: row.display })}`;
          rowsWritten++;
        }
        first = false;
        cursor = page.next;
        if (cursor === undefined) {
          done = true;
          if (format === 'json') text += '\n]\n';
        }
        controller.enqueue(encoder.encode(text));
        if (done) controller.close();
      } catch (error) {
        // The status line has gone; a truncated file must not pass for a whole one.
        onError(error);
        done = true;
        controller.error(new Error('the export failed part way'));
      }
    },
  });
}
