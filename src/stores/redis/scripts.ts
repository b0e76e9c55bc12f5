import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { META_FIELD_NAMES, META_FIELDS, VERSION_FIELD } from './layout.js';

/**
 * The Lua scripts of the Redis store. Each one works on a single session hash (one Cluster
 * slot), so it is atomic in every deployment. Besides its result, a script yields the index
 * changes the operation implies, as 6-tuples
 *
 *   kind ('put' | 'remove'), id, app, score ('' = unchanged), oldPrincipal, newPrincipal
 *
 * (principals travel as '' for none or '=' .. value). When ARGV[1], the index prefix, is set
 * (standalone and Sentinel: every key lives on one server) the script applies them itself,
 * so the whole operation is one atomic round trip. In a Cluster the index keys live in
 * another slot, so ARGV[1] is '' and the caller sends the tuples to the INDEX script.
 *
 * Every script replies `{status, payload, ops}`.
 */

const q = (text: string) => `'${text}'`;

const PRELUDE = `
local F_APP, F_CREATED, F_EXP, F_P = ${q(META_FIELDS.app)}, ${q(META_FIELDS.createdAt)}, ${q(META_FIELDS.expiresAt)}, ${q(META_FIELDS.principal)}
local F_VERSION = ${q(VERSION_FIELD)}
local META = {${META_FIELD_NAMES.map(q).join(', ')}}

local function enc(principal)
  if principal then return '=' .. principal end
  return ''
end

-- HSET/HDEL over ARGV[first..last] in chunks, as unpack() has a stack limit.
local function call_range(command, key, argv, first, last)
  local i = first
  while i <= last do
    local j = math.min(i + 199, last)
    redis.call(command, key, unpack(argv, i, j))
    i = j + 1
  end
end

local function apply_ops(prefix, ops, first)
  for i = first, #ops, 6 do
    local kind, id, app, score, oldp, newp = ops[i], ops[i + 1], ops[i + 2], ops[i + 3], ops[i + 4], ops[i + 5]
    if kind == 'remove' then
      redis.call('ZREM', prefix .. 'exp:' .. app, id)
      redis.call('ZREM', prefix .. 'ids:' .. app, id)
      if oldp ~= '' then redis.call('SREM', prefix .. 'principal:' .. string.sub(oldp, 2), id) end
    else
      if score ~= '' then
        redis.call('SADD', prefix .. 'apps', app)
        redis.call('ZADD', prefix .. 'exp:' .. app, score, id)
        redis.call('ZADD', prefix .. 'ids:' .. app, 'NX', 0, id)
      end
      if oldp ~= newp then
        if oldp ~= '' then redis.call('SREM', prefix .. 'principal:' .. string.sub(oldp, 2), id) end
        if newp ~= '' then redis.call('SADD', prefix .. 'principal:' .. string.sub(newp, 2), id) end
      end
    end
  end
end

local function finish(status, payload, ops)
  if ARGV[1] ~= '' then
    apply_ops(ARGV[1], ops, 1)
    return {status, payload, {}}
  end
  return {status, payload, ops}
end
`;

/**
 * KEYS: session. ARGV: prefix, id, app, score, principal, pexpireat ('' = none), field/value
 * pairs. Replies with the version: 1 for a new session, one more than the pairs' own version
 * when they carry one (the second half of a Cluster rename).
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists', {}, {}} end
call_range('HSET', KEYS[1], ARGV, 7, #ARGV)
local version = redis.call('HINCRBY', KEYS[1], F_VERSION, 1)
if ARGV[6] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[6]) end
return finish('ok', {tostring(version)}, {'put', ARGV[2], ARGV[3], ARGV[4], '', ARGV[5]})
`;

/**
 * KEYS: session. ARGV: prefix, id, expires ('' = keep, 'null', or epoch ms), pexpireat,
 * principal ('' = keep, '-' = none, '=' .. value), bump ('1' when the change moves the
 * version), n, n field/value elements, fields to delete. Writes nothing when the session is
 * gone, so it is never resurrected. Replies with the version after the write.
 */
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone', {}, {}} end
local n = tonumber(ARGV[7])
local ops = {}
local expires, principal = ARGV[3], ARGV[5]
if expires ~= '' or principal ~= '' then
  local cur = redis.call('HMGET', KEYS[1], F_APP, F_P)
  local oldp = enc(cur[2])
  local newp, score = oldp, ''
  if expires == 'null' then
    redis.call('HDEL', KEYS[1], F_EXP)
    redis.call('PERSIST', KEYS[1])
    score = '+inf'
  elseif expires ~= '' then
    redis.call('HSET', KEYS[1], F_EXP, expires)
    redis.call('PEXPIREAT', KEYS[1], ARGV[4])
    score = expires
  end
  if principal == '-' then
    redis.call('HDEL', KEYS[1], F_P)
    newp = ''
  elseif principal ~= '' then
    redis.call('HSET', KEYS[1], F_P, string.sub(principal, 2))
    newp = principal
  end
  ops = {'put', ARGV[2], cur[1] or '', score, oldp, newp}
end
if n > 0 then call_range('HSET', KEYS[1], ARGV, 8, 7 + n) end
if 8 + n <= #ARGV then call_range('HDEL', KEYS[1], ARGV, 8 + n, #ARGV) end
local version
if ARGV[6] == '1' then version = redis.call('HINCRBY', KEYS[1], F_VERSION, 1)
else version = redis.call('HGET', KEYS[1], F_VERSION) or 0 end
return finish('ok', {tostring(version)}, ops)
`;

/**
 * KEYS: session. ARGV: prefix, id, sweepNow ('' = destroy unconditionally), appHint.
 * Deletes the session and replies with its metadata (flat field/value list): only the
 * caller whose script deleted it gets it, so 'destroyed' fires once. When sweeping, a
 * session whose own expiry is later than sweepNow (touched meanwhile) is kept and its index
 * entry corrected; a hash already gone (index entry stale) is cleaned from appHint's index.
 */
const DESTROY = `
local values = redis.call('HMGET', KEYS[1], unpack(META))
local fields = {}
for i, name in ipairs(META) do
  if values[i] then fields[name] = values[i] end
end
if not fields[F_CREATED] then
  if ARGV[4] ~= '' then return finish('stale', {}, {'remove', ARGV[2], ARGV[4], '', '', ''}) end
  return {'gone', {}, {}}
end
local app, p = fields[F_APP] or '', enc(fields[F_P])
if ARGV[3] ~= '' then
  local exp = fields[F_EXP]
  if not exp or tonumber(exp) > tonumber(ARGV[3]) then
    return finish('alive', {}, {'put', ARGV[2], app, exp or '+inf', p, p})
  end
end
redis.call('DEL', KEYS[1])
local meta = {}
for i, name in ipairs(META) do
  if values[i] then
    meta[#meta + 1] = name
    meta[#meta + 1] = values[i]
  end
end
return finish('deleted', meta, {'remove', ARGV[2], app, '', p, ''})
`;

/**
 * Standalone rename. KEYS: old session, new session. ARGV: prefix, oldId, newId.
 * RENAME keeps the fields and the native expiry; both ids are on one server, so it is atomic.
 */
const RENAME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone', {}, {}} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'exists', {}, {}} end
local v = redis.call('HMGET', KEYS[1], F_APP, F_EXP, F_P)
redis.call('RENAME', KEYS[1], KEYS[2])
local version = redis.call('HINCRBY', KEYS[2], F_VERSION, 1)
local app, p = v[1] or '', enc(v[3])
return finish('ok', {tostring(version)}, {'remove', ARGV[2], app, '', p, '', 'put', ARGV[3], app, v[2] or '+inf', '', p})
`;

/**
 * First half of a Cluster rename (the two ids are in different slots): reads every field
 * and deletes the session in one step, so the old id loads nothing from here on.
 * KEYS: old session. ARGV: prefix, oldId.
 */
const TAKE = `
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return {'gone', {}, {}} end
local app, p = '', ''
for i = 1, #flat, 2 do
  if flat[i] == F_APP then app = flat[i + 1] elseif flat[i] == F_P then p = '=' .. flat[i + 1] end
end
redis.call('DEL', KEYS[1])
return finish('ok', flat, {'remove', ARGV[2], app, '', p, ''})
`;

/**
 * The conditional load. KEYS: session. ARGV: the version the caller holds, 'all' or 'some',
 * then the attribute fields wanted when 'some'. Replies {head} when the version is the
 * caller's, else {head, attributes}: head is HMGET of the version and the metadata fields
 * (all nil when there is no session), attributes HGETALL's flat list or HMGET's values.
 * A session written before versions existed has none, and reads as version 0.
 */
const LOAD = `
local head = redis.call('HMGET', KEYS[1], F_VERSION, unpack(META))
if (head[1] or '0') == ARGV[1] then return {head} end
if ARGV[2] == 'all' then return {head, redis.call('HGETALL', KEYS[1])} end
if #ARGV < 3 then return {head, {}} end
return {head, redis.call('HMGET', KEYS[1], unpack(ARGV, 3))}
`;

/** KEYS: any key of the index slot. ARGV: prefix, then 6-tuples. */
const INDEX = `
apply_ops(ARGV[1], ARGV, 2)
return 1
`;

/**
 * KEYS: lease. ARGV: holder, now, until, pttl. Time is the caller's clock (as the Store
 * contract says), not the server's; PEXPIRE only reclaims the key once long unused.
 */
const LEASE = `
local cur = redis.call('HMGET', KEYS[1], 'holder', 'until')
if cur[1] and cur[1] ~= ARGV[1] and tonumber(cur[2]) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'until', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

function lua(body: string, prelude = true): LuaScript {
  const source = prelude ? `${PRELUDE}\n${body}` : body;
  return { lua: source, sha: createHash('sha1').update(source).digest('hex') };
}

export const SCRIPTS = {
  create: lua(CREATE),
  update: lua(UPDATE),
  destroy: lua(DESTROY),
  rename: lua(RENAME),
  load: lua(LOAD),
  take: lua(TAKE),
  index: lua(INDEX),
  lease: lua(LEASE, false),
} as const;

/** A script's reply: status, payload (a flat list), index tuples left for the caller. */
export type ScriptReply = [status: string, payload: string[], ops: string[]];

/**
 * EVALSHA, falling back to EVAL once when the server does not have the script cached (first
 * use, or after a restart). Done here rather than with ioredis's defineCommand so that a
 * client the user passes in is not modified.
 */
export async function evalScript(
  client: Redis | Cluster,
  script: LuaScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  }
}
