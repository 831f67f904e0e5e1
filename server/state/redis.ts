import type { Redis } from "ioredis";
import { loadRedis } from "./ioredis";
import { windowSlotTtlMs, type ReserveOutcome, type StateStore, type WindowOutcome } from "./store";

/*
 * Atomic scripts. Time comes from the Redis server (TIME), so every instance sharing it agrees on windows and on
 * when holds lapse. Money travels as integer strings; Lua compares in doubles, exact up to 2^53 units
 * (about $900,000 at 10^-10 USD), while HINCRBY keeps the stored sums exact in 64 bits.
 *
 * A spend counter is the hash K {spent, reserved, seeded}, with its holds in K:h (id → amount) and K:t (id → lapse
 * time, sorted). Both scripts drop lapsed holds before reading.
 */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const PURGE = `
local function purge(k)
  local lapsed = redis.call('ZRANGEBYSCORE', k .. ':t', '-inf', now)
  for _, id in ipairs(lapsed) do
    local held = redis.call('HGET', k .. ':h', id)
    if held and held ~= '0' then redis.call('HINCRBY', k, 'reserved', '-' .. held) end
    redis.call('HDEL', k .. ':h', id)
  end
  if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', k .. ':t', '-inf', now) end
end
`;

// ARGV: amount, minimum, id, holdMs, then per key: limit ('' = none), ttlMs ('' = none).
const RESERVE = `${NOW}${PURGE}
for i, k in ipairs(KEYS) do
  purge(k)
  if redis.call('HEXISTS', k, 'seeded') == 0 then return {'unseeded', tostring(i - 1)} end
end
local grant = tonumber(ARGV[1])
local minimum = tonumber(ARGV[2])
for i, k in ipairs(KEYS) do
  local limit = ARGV[3 + 2 * i]
  if limit ~= '' then
    local spent = redis.call('HGET', k, 'spent') or '0'
    local reserved = redis.call('HGET', k, 'reserved') or '0'
    local available = tonumber(limit) - tonumber(spent) - tonumber(reserved)
    if available <= 0 or available < minimum then return {'exceeded', tostring(i - 1), spent, reserved} end
    if available < grant then grant = available end
  end
end
local g = string.format('%.0f', grant)
local id = ARGV[3]
for i, k in ipairs(KEYS) do
  if g ~= '0' then redis.call('HINCRBY', k, 'reserved', g) end
  redis.call('HSET', k .. ':h', id, g)
  redis.call('ZADD', k .. ':t', now + tonumber(ARGV[4]), id)
  local ttl = ARGV[4 + 2 * i]
  if ttl ~= '' then
    redis.call('PEXPIRE', k .. ':h', ttl)
    redis.call('PEXPIRE', k .. ':t', ttl)
  end
end
return {'granted', g}
`;

// ARGV: id, amount, then per key: ttlMs ('' = none).
const SETTLE = `
local out = {}
for i, k in ipairs(KEYS) do
  local held = redis.call('HGET', k .. ':h', ARGV[1])
  if held then
    if held ~= '0' then redis.call('HINCRBY', k, 'reserved', '-' .. held) end
    redis.call('HDEL', k .. ':h', ARGV[1])
    redis.call('ZREM', k .. ':t', ARGV[1])
  end
  redis.call('HINCRBY', k, 'spent', ARGV[2])
  local ttl = ARGV[2 + i]
  if ttl ~= '' and redis.call('PTTL', k) == -1 then redis.call('PEXPIRE', k, ttl) end
  -- Read back as a string: HINCRBY's reply would pass through a Lua double.
  out[i] = redis.call('HGET', k, 'spent')
end
return out
`;

// ARGV: spent, ttlMs ('' = none).
const SEED = `
if redis.call('HEXISTS', KEYS[1], 'seeded') == 1 then return 0 end
redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
redis.call('HSET', KEYS[1], 'seeded', '1')
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`;

const READ = `${NOW}${PURGE}
purge(KEYS[1])
return {redis.call('HGET', KEYS[1], 'spent') or '0', redis.call('HGET', KEYS[1], 'reserved') or '0', redis.call('HEXISTS', KEYS[1], 'seeded')}
`;

// The sliding window of store.ts, in Lua. ARGV: windowMs, slotTtlMs, then per key: limit, amount.
// Returns {allowed, deniedIndex, retryAfterMs, count1, reset1, count2, reset2, ...}.
const HIT = `${NOW}
local w = tonumber(ARGV[1])
local index = math.floor(now / w)
local elapsed = now - index * w
local cur, prev, count = {}, {}, {}
local denied = -1
local retry = 0
for i, k in ipairs(KEYS) do
  cur[i] = tonumber(redis.call('GET', k .. ':' .. string.format('%.0f', index)) or '0')
  prev[i] = tonumber(redis.call('GET', k .. ':' .. string.format('%.0f', index - 1)) or '0')
  count[i] = prev[i] * ((w - elapsed) / w) + cur[i]
  local limit = tonumber(ARGV[1 + 2 * i])
  local amount = tonumber(ARGV[2 + 2 * i])
  if denied < 0 and count[i] + amount > limit then
    denied = i - 1
    if cur[i] + amount <= limit then
      retry = math.ceil(((count[i] + amount - limit) / prev[i]) * w)
    elseif cur[i] > 0 then
      retry = math.min(w - elapsed + math.ceil(((cur[i] + amount - limit) / cur[i]) * w), 2 * w - elapsed)
    else
      retry = w - elapsed
    end
  end
end
local out = {denied < 0 and 1 or 0, denied, retry}
for i, k in ipairs(KEYS) do
  local amount = tonumber(ARGV[2 + 2 * i])
  local reset = 0
  if cur[i] > 0 then reset = 2 * w - elapsed elseif prev[i] > 0 then reset = w - elapsed end
  if denied < 0 then
    redis.call('INCRBY', k .. ':' .. string.format('%.0f', index), ARGV[2 + 2 * i])
    redis.call('PEXPIRE', k .. ':' .. string.format('%.0f', index), ARGV[2])
    count[i] = count[i] + amount
    if amount > 0 then reset = 2 * w - elapsed end
  end
  out[#out + 1] = tostring(count[i])
  out[#out + 1] = reset
end
return out
`;

// ARGV: windowMs, slotTtlMs, then per key: amount.
const ADD = `${NOW}
local index = string.format('%.0f', math.floor(now / tonumber(ARGV[1])))
for i, k in ipairs(KEYS) do
  local slot = k .. ':' .. index
  local value = redis.call('INCRBY', slot, ARGV[2 + i])
  if value < 0 then redis.call('SET', slot, '0') end
  redis.call('PEXPIRE', slot, ARGV[2])
end
return 1
`;

type Reply = Array<string | number>;
interface Scripts {
  syReserve(numKeys: number, ...args: Array<string | number>): Promise<Reply>;
  sySettle(numKeys: number, ...args: Array<string | number>): Promise<string[]>;
  sySeed(numKeys: number, ...args: Array<string | number>): Promise<number>;
  syRead(numKeys: number, ...args: Array<string | number>): Promise<[string, string, number]>;
  syHit(numKeys: number, ...args: Array<string | number>): Promise<Reply>;
  syAdd(numKeys: number, ...args: Array<string | number>): Promise<number>;
}

const ttlArg = (ttlMs?: number) => (ttlMs && ttlMs > 0 ? String(Math.ceil(ttlMs)) : "");

/**
 * How long one command may wait for its reply. A Redis that stops answering with the connection still open (paused,
 * overloaded, a partition that drops packets) would otherwise leave every command, and every request waiting on a
 * rate limit or budget, pending forever: with a bound they fail and callers fail closed.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/** Shared store for several instances. Commands fail fast (no offline queue, bounded wait) so callers can fail closed. */
export async function createRedisStore(url: string, options: { prefix?: string; commandTimeoutMs?: number } = {}): Promise<StateStore> {
  const RedisClient = await loadRedis();
  const client = new RedisClient(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    commandTimeout: options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS,
    keyPrefix: options.prefix ?? "sy:",
  });
  client.on("error", () => {}); // surfaced to callers by the failing command
  // Keys passed as KEYS get the prefix from ioredis; the scripts derive every other key from them.
  for (const [name, lua] of Object.entries({ syReserve: RESERVE, sySettle: SETTLE, sySeed: SEED, syRead: READ, syHit: HIT, syAdd: ADD })) {
    client.defineCommand(name, { lua });
  }
  const redis = client as Redis & Scripts;
  await redis.connect();
  return {
    kind: "redis",
    async get(key) {
      return redis.get(key);
    },
    async set(key, value, ttlMs) {
      if (ttlMs && ttlMs > 0) await redis.set(key, value, "PX", ttlMs);
      else await redis.set(key, value);
    },
    async setIfAbsent(key, value, ttlMs) {
      const result =
        ttlMs && ttlMs > 0 ? await redis.set(key, value, "PX", ttlMs, "NX") : await redis.set(key, value, "NX");
      return result === "OK";
    },
    async del(key) {
      await redis.del(key);
    },
    async incrBy(key, by, ttlMs) {
      if (!ttlMs || ttlMs <= 0) return redis.incrby(key, by);
      const [[, value]] = (await redis.multi().incrby(key, by).pexpire(key, ttlMs, "NX").exec()) as [
        [Error | null, number],
      ];
      return value;
    },

    async reserve({ counters, amount, minimum, id, holdMs }): Promise<ReserveOutcome> {
      const args = counters.flatMap((c) => [c.limit === null ? "" : c.limit.toString(), ttlArg(c.ttlMs)]);
      const reply = await redis.syReserve(counters.length, ...counters.map((c) => c.key), amount.toString(), minimum.toString(), id, String(holdMs), ...args);
      const [status, value, spent, reserved] = reply.map(String);
      if (status === "granted") return { status, granted: BigInt(value!) };
      if (status === "unseeded") return { status, index: Number(value) };
      return { status: "exceeded", index: Number(value), spent: BigInt(spent!), reserved: BigInt(reserved!) };
    },
    async settle({ counters, id, amount }) {
      const reply = await redis.sySettle(counters.length, ...counters.map((c) => c.key), id, amount.toString(), ...counters.map((c) => ttlArg(c.ttlMs)));
      return reply.map((v) => BigInt(v));
    },
    async seedCounter(key, spent, ttlMs) {
      return (await redis.sySeed(1, key, spent.toString(), ttlArg(ttlMs))) === 1;
    },
    async readCounter(key) {
      const [spent, reserved, seeded] = await redis.syRead(1, key);
      return { spent: BigInt(spent), reserved: BigInt(reserved), seeded: seeded === 1 };
    },

    async hitWindows({ windowMs, windows }): Promise<WindowOutcome> {
      const reply = await redis.syHit(
        windows.length,
        ...windows.map((w) => w.key),
        String(windowMs),
        String(windowSlotTtlMs(windowMs)),
        ...windows.flatMap((w) => [String(w.limit), String(w.amount)]),
      );
      const [allowed, denied, retry, ...rest] = reply.map(Number);
      return {
        allowed: allowed === 1,
        deniedIndex: allowed === 1 ? null : denied!,
        retryAfterMs: retry!,
        windows: windows.map((_, i) => ({ count: rest[2 * i]!, resetMs: rest[2 * i + 1]! })),
      };
    },
    async addWindows({ windowMs, windows }) {
      if (windows.length === 0) return;
      await redis.syAdd(windows.length, ...windows.map((w) => w.key), String(windowMs), String(windowSlotTtlMs(windowMs)), ...windows.map((w) => String(w.amount)));
    },

    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
