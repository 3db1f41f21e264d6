import type { VerificationStore } from '../verification/ports';
import { createMemoryStore } from './memory';
import { createPostgresStore } from './postgres';
import { createRedisStore } from './redis';

export interface StoreOptions {
  logger?: { warn(o: object, m: string): void };
}

/**
 * Opens the store STORE_URL names: in memory when unset, Redis for redis:// and
 * rediss://, PostgreSQL for postgres:// and postgresql://. Rejects with
 * store_unavailable when a shared store cannot be reached at start.
 */
export async function createStore(
  url: string | undefined,
  options: StoreOptions = {},
): Promise<VerificationStore> {
  if (url === undefined) return createMemoryStore();
  const scheme = /^[a-z]+:/i.exec(url)?.[0].toLowerCase();
  switch (scheme) {
    case 'redis:':
    case 'rediss:':
      return createRedisStore(url, { logger: options.logger });
    case 'postgres:':
    case 'postgresql:':
      return createPostgresStore(url, { logger: options.logger });
    default:
      throw new Error(`STORE_URL: must start with redis://, rediss://, postgres:// or postgresql://`);
  }
}
