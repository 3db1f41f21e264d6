import type { VerificationStore } from '../verification/ports';
import { createMemoryStore } from './memory';
import { createMySqlStore } from './mysql';
import { createPostgresStore } from './postgres';
import { createRedisStore } from './redis';

export interface StoreOptions {
  logger?: { warn(o: object, m: string): void };
  /** Redis only: replicas that must have a counted attempt or a consumed code (`WAIT`); 0 = none. */
  redisWaitReplicas?: number;
  /** Redis only: how long that `WAIT` may take, in ms. */
  redisWaitTimeoutMs?: number;
}

/**
 * Opens the store STORE_URL names: in memory when unset, Redis for redis:// and
 * rediss:// (one server), redis+sentinel:// and redis+cluster:// (and rediss+… for TLS), PostgreSQL for postgres:// and postgresql://, MySQL or MariaDB for mysql://
 * and mariadb:// (the URL names the database). Rejects with
 * store_unavailable when a shared store cannot be reached at start.
 */
export async function createStore(
  url: string | undefined,
  options: StoreOptions = {},
): Promise<VerificationStore> {
  if (url === undefined) return createMemoryStore();
  const scheme = /^[a-z+]+:/i.exec(url)?.[0].toLowerCase();
  switch (scheme) {
    case 'redis:':
    case 'rediss:':
    case 'redis+sentinel:':
    case 'rediss+sentinel:':
    case 'redis+cluster:':
    case 'rediss+cluster:':
      return createRedisStore(url, {
        logger: options.logger,
        waitReplicas: options.redisWaitReplicas,
        waitTimeoutMs: options.redisWaitTimeoutMs,
      });
    case 'postgres:':
    case 'postgresql:':
      return createPostgresStore(url, { logger: options.logger });
    case 'mysql:':
    case 'mariadb:':
      return createMySqlStore(url, { logger: options.logger });
    default:
      throw new Error(
        `STORE_URL: must start with redis://, rediss://, redis+sentinel://, redis+cluster:// (rediss+… for TLS), postgres://, postgresql://, mysql:// or mariadb://`,
      );
  }
}
