import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { META_FIELD_NAMES, META_FIELDS, VERSION_FIELD } from './layout.js';

/**
 * The Lua scripts of the Redis store. Each one works on a single session hash (one Cluster
 * slot), so it is atomic in every deployment. Besides its result, a script yields the index
 * changes the operation implies, as 9-tuples
 *
 *   kind ('put' | 'remove'), id, app, score ('' = unchanged), oldPrincipal, newPrincipal,
 *   accessed ('' = unchanged), created ('' = unchanged), host (the creating node)
 *
 * (principals travel as '' for none or '=' .. value). When ARGV[1], the index prefix, is set
 * (standalone and Sentinel: every key lives on one server) the script applies them itself,
 * so the whole operation is one atomic round trip. In a Cluster the index keys live in
 * another slot, so ARGV[1] is '' and the caller sends the tuples to the INDEX script.
 *
 * Every script replies `{status, payload, ops}`. The write scripts (create, update, destroy,
 * rename, take) get ARGV[1] with a deadline in front of the prefix, and reply 'late' without
 * writing when they run past it (see fence.ts and `late` below).
 */

const q = (text: string) => `'${text}'`;

const PRELUDE = `
local F_APP, F_CREATED, F_EXP, F_P = ${q(META_FIELDS.app)}, ${q(META_FIELDS.createdAt)}, ${q(META_FIELDS.expiresAt)}, ${q(META_FIELDS.principal)}
local F_ACC, F_HOST = ${q(META_FIELDS.lastAccessedAt)}, ${q(META_FIELDS.host)}
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

-- The indexes of one app, besides exp/ids/principal: acc (id -> lastAccessedAt), created
-- (id -> createdAt), auth (id -> lastAccessedAt, sessions with a principal), who (id ->
-- principal), host:<h> (id -> expiresAt, per creating host) and hosts (the host names).
local function apply_ops(prefix, ops, first)
  for i = first, #ops, 9 do
    local kind, id, app, score, oldp, newp = ops[i], ops[i + 1], ops[i + 2], ops[i + 3], ops[i + 4], ops[i + 5]
    local accessed, created, host = ops[i + 6], ops[i + 7], ops[i + 8]
    local a = prefix .. 'app:' .. app .. ':'
    if kind == 'remove' then
      redis.call('ZREM', prefix .. 'exp:' .. app, id)
      redis.call('ZREM', prefix .. 'ids:' .. app, id)
      redis.call('ZREM', a .. 'acc', id)
      redis.call('ZREM', a .. 'created', id)
      redis.call('ZREM', a .. 'auth', id)
      redis.call('HDEL', a .. 'who', id)
      if host ~= '' then redis.call('ZREM', a .. 'host:' .. host, id)
      else
        -- A stale entry (the hash expired natively): its host is unknown, so try each.
        for _, h in ipairs(redis.call('SMEMBERS', a .. 'hosts')) do redis.call('ZREM', a .. 'host:' .. h, id) end
      end
      if oldp ~= '' then redis.call('SREM', prefix .. 'principal:' .. string.sub(oldp, 2), id) end
    else
      if score ~= '' then
        redis.call('SADD', prefix .. 'apps', app)
        redis.call('ZADD', prefix .. 'exp:' .. app, score, id)
        redis.call('ZADD', prefix .. 'ids:' .. app, 'NX', 0, id)
        redis.call('SADD', a .. 'hosts', host)
        redis.call('ZADD', a .. 'host:' .. host, score, id)
      end
      if created ~= '' then redis.call('ZADD', a .. 'created', created, id) end
      if accessed ~= '' then
        redis.call('ZADD', a .. 'acc', accessed, id)
        if newp ~= '' then
          redis.call('ZADD', a .. 'auth', accessed, id)
          -- Idempotent, and it indexes a session written before these indexes existed.
          redis.call('HSET', a .. 'who', id, string.sub(newp, 2))
        end
      end
      if oldp ~= newp then
        if oldp ~= '' then redis.call('SREM', prefix .. 'principal:' .. string.sub(oldp, 2), id) end
        if newp ~= '' then
          redis.call('SADD', prefix .. 'principal:' .. string.sub(newp, 2), id)
          redis.call('HSET', a .. 'who', id, string.sub(newp, 2))
        else
          redis.call('ZREM', a .. 'auth', id)
          redis.call('HDEL', a .. 'who', id)
        end
      end
    end
  end
end

-- The late-write fence (fence.ts). A write script's ARGV[1] arrives as '<deadline>|<index
-- prefix>', the deadline in ms of this server's clock: past it the caller has given up, so
-- the script answers {'late', {now}} and writes nothing. It leaves the prefix in ARGV[1].
local function late()
  local deadline, prefix = string.match(ARGV[1], '^(%d*)|(.*)$')
  if not deadline then return nil end
  ARGV[1] = prefix
  if deadline == '' then return nil end
  -- Before Redis 5, a script must ask to replicate its effects to write after TIME.
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if now > tonumber(deadline) then return {'late', {tostring(now)}, {}} end
  return nil
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
 * KEYS: session. ARGV: prefix, id, app, score, principal, pexpireat ('' = none), accessed,
 * created, host, field/value pairs. Replies with the version: 1 for a new session, one more
 * than the pairs' own version when they carry one (the second half of a Cluster rename).
 */
const CREATE = `
local refused = late()
if refused then return refused end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists', {}, {}} end
call_range('HSET', KEYS[1], ARGV, 10, #ARGV)
local version = redis.call('HINCRBY', KEYS[1], F_VERSION, 1)
if ARGV[6] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[6]) end
return finish('ok', {tostring(version)}, {'put', ARGV[2], ARGV[3], ARGV[4], '', ARGV[5], ARGV[7], ARGV[8], ARGV[9]})
`;

/**
 * KEYS: session. ARGV: prefix, id, expires ('' = keep, 'null', or epoch ms), pexpireat,
 * principal ('' = keep, '-' = none, '=' .. value), n, accessed ('' = keep), bump ('1' when
 * the change moves the version), n field/value elements, fields to delete. Writes nothing
 * when the session is gone, so it is never resurrected. Replies with the version after it.
 */
const UPDATE = `
local refused = late()
if refused then return refused end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone', {}, {}} end
local n = tonumber(ARGV[6])
local ops = {}
local expires, principal, accessed = ARGV[3], ARGV[5], ARGV[7]
if expires ~= '' or principal ~= '' or accessed ~= '' then
  local cur = redis.call('HMGET', KEYS[1], F_APP, F_P, F_ACC, F_HOST, F_EXP, F_CREATED)
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
  -- The auth index needs the access time whenever the principal changes.
  if accessed == '' and oldp ~= newp then accessed = cur[3] or '0' end
  -- A new principal, an expiry or a touch moves the session in the per-host index too.
  if score == '' and oldp ~= newp then score = cur[5] or '+inf' end
  -- A touch re-adds the creation time too, so a session written before the monitor's
  -- indexes existed joins them at its next recorded access.
  local created = ''
  if ARGV[7] ~= '' then created = cur[6] or '' end
  ops = {'put', ARGV[2], cur[1] or '', score, oldp, newp, accessed, created, cur[4] or ''}
end
if n > 0 then call_range('HSET', KEYS[1], ARGV, 9, 8 + n) end
if 9 + n <= #ARGV then call_range('HDEL', KEYS[1], ARGV, 9 + n, #ARGV) end
local version
if ARGV[8] == '1' then version = redis.call('HINCRBY', KEYS[1], F_VERSION, 1)
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
local refused = late()
if refused then return refused end
local values = redis.call('HMGET', KEYS[1], unpack(META))
local fields = {}
for i, name in ipairs(META) do
  if values[i] then fields[name] = values[i] end
end
if not fields[F_CREATED] then
  if ARGV[4] ~= '' then return finish('stale', {}, {'remove', ARGV[2], ARGV[4], '', '', '', '', '', ''}) end
  return {'gone', {}, {}}
end
local app, p, host = fields[F_APP] or '', enc(fields[F_P]), fields[F_HOST] or ''
if ARGV[3] ~= '' then
  local exp = fields[F_EXP]
  if not exp or tonumber(exp) > tonumber(ARGV[3]) then
    return finish('alive', {}, {'put', ARGV[2], app, exp or '+inf', p, p, '', '', host})
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
return finish('deleted', meta, {'remove', ARGV[2], app, '', p, '', '', '', host})
`;

/**
 * Standalone rename. KEYS: old session, new session. ARGV: prefix, oldId, newId.
 * RENAME keeps the fields and the native expiry; both ids are on one server, so it is atomic.
 */
const RENAME = `
local refused = late()
if refused then return refused end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone', {}, {}} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'exists', {}, {}} end
local v = redis.call('HMGET', KEYS[1], F_APP, F_EXP, F_P, F_ACC, F_CREATED, F_HOST)
redis.call('RENAME', KEYS[1], KEYS[2])
local version = redis.call('HINCRBY', KEYS[2], F_VERSION, 1)
local app, p, host = v[1] or '', enc(v[3]), v[6] or ''
return finish('ok', {tostring(version)}, {'remove', ARGV[2], app, '', p, '', '', '', host,
  'put', ARGV[3], app, v[2] or '+inf', '', p, v[4] or '0', v[5] or '0', host})
`;

/**
 * First half of a Cluster rename (the two ids are in different slots): reads every field
 * and deletes the session in one step, so the old id loads nothing from here on.
 * KEYS: old session. ARGV: prefix, oldId.
 */
const TAKE = `
local refused = late()
if refused then return refused end
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then return {'gone', {}, {}} end
local app, p, host = '', '', ''
for i = 1, #flat, 2 do
  if flat[i] == F_APP then app = flat[i + 1]
  elseif flat[i] == F_P then p = '=' .. flat[i + 1]
  elseif flat[i] == F_HOST then host = flat[i + 1] end
end
redis.call('DEL', KEYS[1])
return finish('ok', flat, {'remove', ARGV[2], app, '', p, '', '', '', host})
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

/**
 * The monitor's statistics from the indexes alone (they share one slot, so this works in a
 * Cluster too), without reading a session. KEYS: the apps set (for routing). ARGV: prefix,
 * now, onlineSince, hourSince, daySince, nIdle, idle thresholds, nAge, age thresholds, apps.
 * A threshold is "now - bound": a session is in "at most bound" when its score is >= it.
 *
 * Counts over the time indexes include the expired sessions the sweeper has not removed yet;
 * those (up to EXPIRED_CAP per app, beyond which the numbers are approximate) are read and
 * subtracted. Distinct online users walk the auth index from onlineSince on, in batches.
 * Replies: live, authenticated, usersOnline, createdHour, createdDay, expiredPending,
 * oldestExpired ('' = none), nIdle cumulative idle counts, nAge cumulative age counts, then
 * host/count pairs.
 */
const STATS = `
local prefix, now, online_since = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local hour_since, day_since = tonumber(ARGV[4]), tonumber(ARGV[5])
local n_idle = tonumber(ARGV[6])
local idle = {}
for i = 1, n_idle do idle[i] = tonumber(ARGV[6 + i]) end
local n_age = tonumber(ARGV[7 + n_idle])
local age = {}
for i = 1, n_age do age[i] = tonumber(ARGV[7 + n_idle + i]) end
local first_app = 8 + n_idle + n_age
local EXPIRED_CAP = 10000
local live, auth, created_hour, created_day, pending, oldest = 0, 0, 0, 0, 0, nil
local idle_c, age_c = {}, {}
for i = 1, n_idle do idle_c[i] = 0 end
for i = 1, n_age do age_c[i] = 0 end
local users, users_n = {}, 0
local hosts = {}
for k = first_app, #ARGV do
  local app = ARGV[k]
  local a = prefix .. 'app:' .. app .. ':'
  local exp = prefix .. 'exp:' .. app
  live = live + redis.call('ZCOUNT', exp, '(' .. now, '+inf')
  local expired_n = redis.call('ZCOUNT', exp, '-inf', now)
  pending = pending + expired_n
  local first = redis.call('ZRANGE', exp, 0, 0, 'WITHSCORES')
  if first[2] and tonumber(first[2]) <= now then
    local o = tonumber(first[2])
    if not oldest or o < oldest then oldest = o end
  end
  local created_key, acc_key, auth_key = a .. 'created', a .. 'acc', a .. 'auth'
  local d_hour, d_day, d_auth = 0, 0, 0
  local d_idle, d_age = {}, {}
  for i = 1, n_idle do d_idle[i] = 0 end
  for i = 1, n_age do d_age[i] = 0 end
  local expired = redis.call('ZRANGE', exp, '-inf', now, 'BYSCORE', 'LIMIT', 0, EXPIRED_CAP)
  for i = 1, #expired, 500 do
    local ids = {unpack(expired, i, math.min(i + 499, #expired))}
    local cs = redis.call('ZMSCORE', created_key, unpack(ids))
    local as = redis.call('ZMSCORE', acc_key, unpack(ids))
    local us = redis.call('ZMSCORE', auth_key, unpack(ids))
    for j = 1, #ids do
      local c, acc = tonumber(cs[j]), tonumber(as[j])
      if c then
        if c >= hour_since then d_hour = d_hour + 1 end
        if c >= day_since then d_day = d_day + 1 end
        for b = 1, n_age do if c >= age[b] then d_age[b] = d_age[b] + 1 end end
      end
      if acc then
        for b = 1, n_idle do if acc >= idle[b] then d_idle[b] = d_idle[b] + 1 end end
      end
      if us[j] then d_auth = d_auth + 1 end
    end
  end
  auth = auth + redis.call('ZCARD', auth_key) - d_auth
  created_hour = created_hour + redis.call('ZCOUNT', created_key, hour_since, '+inf') - d_hour
  created_day = created_day + redis.call('ZCOUNT', created_key, day_since, '+inf') - d_day
  for b = 1, n_idle do idle_c[b] = idle_c[b] + redis.call('ZCOUNT', acc_key, idle[b], '+inf') - d_idle[b] end
  for b = 1, n_age do age_c[b] = age_c[b] + redis.call('ZCOUNT', created_key, age[b], '+inf') - d_age[b] end
  -- Distinct principals seen since onlineSince, among live sessions.
  local offset = 0
  while true do
    local ids = redis.call('ZRANGE', auth_key, online_since, '+inf', 'BYSCORE', 'LIMIT', offset, 1000)
    if #ids == 0 then break end
    local es = redis.call('ZMSCORE', exp, unpack(ids))
    local ps = redis.call('HMGET', a .. 'who', unpack(ids))
    for j = 1, #ids do
      local e = tonumber(es[j])
      if e and e > now and ps[j] and not users[ps[j]] then
        users[ps[j]] = true
        users_n = users_n + 1
      end
    end
    offset = offset + #ids
  end
  for _, h in ipairs(redis.call('SMEMBERS', a .. 'hosts')) do
    local n = redis.call('ZCOUNT', a .. 'host:' .. h, '(' .. now, '+inf')
    if n > 0 then hosts[h] = (hosts[h] or 0) + n end
  end
end
local reply = {live, auth, users_n, created_hour, created_day, pending, oldest and tostring(oldest) or ''}
for b = 1, n_idle do reply[#reply + 1] = idle_c[b] end
for b = 1, n_age do reply[#reply + 1] = age_c[b] end
for h, n in pairs(hosts) do
  reply[#reply + 1] = h
  reply[#reply + 1] = n
end
return reply
`;

/**
 * How many live sessions have a score in [min, max) on one of an app's time indexes, from
 * the indexes: ZCOUNT minus the expired ones not swept yet that fall in the range.
 * KEYS: the apps set. ARGV: prefix, index name ('acc' | 'created'), min, max ('(' .. x or
 * '+inf'), aliveAt, apps.
 */
const COUNT_RANGE = `
local prefix, name, min, max, alive = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local total = 0
for k = 6, #ARGV do
  local app = ARGV[k]
  local key = prefix .. 'app:' .. app .. ':' .. name
  local exp = prefix .. 'exp:' .. app
  total = total + redis.call('ZCOUNT', key, min, max)
  local lo, hi = tonumber(min), tonumber((string.gsub(max, '^%(', '')))
  local expired = redis.call('ZRANGE', exp, '-inf', alive, 'BYSCORE', 'LIMIT', 0, 10000)
  for i = 1, #expired, 500 do
    local ids = {unpack(expired, i, math.min(i + 499, #expired))}
    local scores = redis.call('ZMSCORE', key, unpack(ids))
    for j = 1, #ids do
      local s = tonumber(scores[j])
      if s and s >= lo and (max == '+inf' or s < hi) then total = total - 1 end
    end
  end
end
return total
`;

/**
 * Appends to the audit log and keeps the newest AUDIT_LOG_LIMIT. KEYS: log, sequence.
 * ARGV: entry JSON, limit. The member is '<seq>:<json>', so equal entries stay distinct.
 */
const AUDIT_APPEND = `
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], seq, seq .. ':' .. ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', seq - tonumber(ARGV[2]))
return seq
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
  stats: lua(STATS, false),
  countRange: lua(COUNT_RANGE, false),
  auditAppend: lua(AUDIT_APPEND, false),
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
