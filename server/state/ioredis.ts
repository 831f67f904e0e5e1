/**
 * ioredis, loaded on first use instead of at import time, so an instance without REDIS_URL never loads it.
 *
 * Why: ioredis defines `class VerbatimString extends String`, and on Node 20 (V8 11.3) the mere existence of a
 * String subclass makes `charCodeAt` on primitive strings about 4× slower for the whole process (a 330 kB
 * byte-length loop: 0.6 → 2.4 ms). PGlite's query serializer (the call-log batch) and undici's header checks pay
 * that on every request, Redis or not.
 */
import type { Redis } from "ioredis";

export async function loadRedis(): Promise<typeof Redis> {
  return (await import("ioredis")).Redis;
}
