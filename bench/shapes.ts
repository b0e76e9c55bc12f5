/**
 * The two session shapes of the benchmark, filled and read the same way by every contestant:
 * - `strings`: many small strings (10 attributes of size/10 bytes) and a counter;
 * - `objects`: a few object attributes, one of them a large nested object holding most of
 *   the size, and a counter.
 * `/read` reads one small attribute; `/write` increments the counter.
 */
export type Shape = 'strings' | 'objects';

export const SHAPES: readonly Shape[] = ['strings', 'objects'];

export function sessionValues(shape: Shape, size: number): Record<string, unknown> {
  if (shape === 'strings') {
    const values: Record<string, unknown> = { counter: 0 };
    for (let i = 0; i < 10; i++) values[`a${i}`] = `${i}`.padEnd(size / 10, 'x');
    return values;
  }
  // About 60 bytes of JSON per item.
  const items = Math.max(1, Math.round((size - 150) / 60));
  return {
    counter: 0,
    profile: { name: 'Ann Example', email: 'ann@example.test', roles: ['user', 'buyer'] },
    prefs: { theme: 'dark', lang: 'en', tz: 'Europe/Paris' },
    history: {
      items: Array.from({ length: items }, (_, i) => ({
        id: i,
        sku: `SKU-${i}`,
        qty: i % 5,
        note: 'abcdefgh',
      })),
    },
  };
}

/** The small attribute `/read` reads, and what the reply says about it. */
export function readOne(shape: Shape, get: (name: string) => unknown): { length: number } {
  if (shape === 'strings') return { length: String(get('a3') ?? '').length };
  const profile = get('profile') as { name?: string } | undefined;
  return { length: profile?.name?.length ?? 0 };
}
