import { existsSync } from 'node:fs';

/**
 * Loads a module of the built package (`dist/`), the code users run. The benchmark must not
 * measure the source through tsx: its transform adds a helper call to every function.
 * Typed by the matching source module: `library<typeof import('../src/x.js')>('x.js')`.
 */
export async function library<T>(subpath: string): Promise<T> {
  const url = new URL(`../dist/${subpath}`, import.meta.url);
  if (!existsSync(url))
    throw new Error(`dist/${subpath} is missing: run \`npm run build\` (npm run bench does)`);
  return (await import(url.href)) as T;
}
