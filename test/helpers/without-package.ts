import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The absolute path of a source module, for scripts run by `runWithoutPackage`. */
export const sourcePath = (relative: string) =>
  fileURLToPath(new URL(`../../src/${relative}`, import.meta.url));

/**
 * Runs an ES module `script` in a child process whose module resolvers cannot find
 * `packageName`, as in an app that never installed it: neither `import` (a resolve hook) nor
 * `require()` (which the hook does not reach on Node 20, so its resolver is wrapped too).
 * Resolves to what it printed.
 */
export async function runWithoutPackage(packageName: string, script: string): Promise<string> {
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === ${JSON.stringify(packageName)}) {
      throw Object.assign(new Error('Cannot find package ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' });
    }
    return next(specifier, context);
  }`;
  const register = `import Module, { register } from 'node:module';
    register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});
    const resolveFilename = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request === ${JSON.stringify(packageName)}) {
        throw Object.assign(new Error('Cannot find module ' + request), { code: 'MODULE_NOT_FOUND' });
      }
      return resolveFilename.call(this, request, ...rest);
    };`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
      '--input-type=module',
      '-e',
      script,
    ],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)) },
  );
  return stdout;
}
