/**
 * `unisession/monitor`: the monitoring centre. Statistics, search, detail and actions on the
 * sessions of a group, as a JSON API (with an OpenAPI document) and a server-rendered web UI,
 * behind hashed credentials with scopes (one app, or all) and roles (viewer, operator).
 */
export {
  hashSecret,
  type MonitorCredential,
  type MonitorRole,
  verifySecret,
} from './credentials.js';
export { createMonitor, type Monitor, type MonitorPeer } from './monitor.js';
export { sendWebResponse, toNodeHandler, toWebRequest } from './node.js';
export type { MonitorOptions } from './options.js';
export type { Readable as ReadableValue } from './readable.js';
export type {
  Actor,
  AttributeDetail,
  Capabilities,
  SessionDetail,
  SessionRow,
} from './service.js';
