import { driverMissing } from '../../core/errors.js';

const loaded = new Map<string, Promise<unknown>>();

/**
 * Imports an optional peer package (a database driver) once per process, on first use, so
 * that an app on one store never needs the others' drivers. A missing package is the one
 * UNISESSION_DRIVER_MISSING error naming what to install; the failure is forgotten, so a
 * package installed meanwhile is found by the next call.
 *
 * Every driver we load is CommonJS: imported from an ES module, its exports sit on `default`
 * (as they are, or beside named ones Node could detect). `T` is the package's exports.
 */
export function loadDriver<T>(packageName: string, storeName: string): Promise<T> {
  let driver = loaded.get(packageName);
  if (!driver) {
    driver = import(packageName).then(
      (mod: { default?: unknown }) => mod.default ?? mod,
      (cause: unknown) => {
        loaded.delete(packageName);
        throw driverMissing(packageName, storeName, cause);
      },
    );
    loaded.set(packageName, driver);
  }
  return driver as Promise<T>;
}
