import { checkGroup, isGroupName } from '../../core/validate.js';

/**
 * The one group-name rule of every store (validate.ts's GROUP_PATTERN): a group names tables,
 * collections and key prefixes, so it is checked before it reaches any of them.
 */
export { isGroupName };

/** The group sessions go to when the app names none. */
export const DEFAULT_GROUP = 'unisession';

/** The store's group, checked: the default when `group` is undefined. */
export function storeGroup(factory: string, group: unknown): string {
  return checkGroup(factory, group ?? DEFAULT_GROUP);
}
