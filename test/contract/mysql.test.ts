import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { createConnection } from 'mysql2/promise';
import type { CodeRecord } from '../../src/domain/code';
import { isGatewayFailure } from '../../src/domain/errors';
import { createStore } from '../../src/store';
import { createMySqlStore } from '../../src/store/mysql';
import type { Subject, VerificationStore } from '../../src/verification/ports';
import { mariadbSkipReason, startMariaDb, type MariaDbServer } from '../helpers/mariadb-server';
import { freePort, freezableProxy } from '../helpers/net';
import { expectUnavailable, operationsOf, pendingDelivery } from './fixtures';
import { describeStoreContract } from './store.contract';

const skip = mariadbSkipReason();
let shared: Promise<MariaDbServer> | undefined;
const server = () => (shared ??= startMariaDb());
afterAll(async () => {
  await (await shared)?.close();
});

let databases = 0;
const freshName = () => `t${++databases}_${randomBytes(4).toString('hex')}`;
/** The server's URL with another database in its path. */
const on = (url: string, database: string) =>
  Object.assign(new URL(url), { pathname: `/${database}` }).toString();

async function sql(url: string, text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const connection = await createConnection({ uri: url });
  try {
    return (await connection.query(text, values))[0] as Record<string, unknown>[];
  } finally {
    await connection.end();
  }
}

/** A new, empty database on the shared server, and its URL. */
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { url } = await server();
  const name = freshName();
  await sql(url, `CREATE DATABASE ${name}`);
  return { url: on(url, name), drop: async () => void (await sql(url, `DROP DATABASE ${name}`)) };
}

describeStoreContract(
  'mysql',
  async () => {
    const db = await freshDatabase();
    // Two stores on one database are two replicas: two pools, separate connections.
    const [store, peer] = await Promise.all([createMySqlStore(db.url), createMySqlStore(db.url)]);
    return {
      store,
      peer,
      reopen: () => createMySqlStore(db.url),
      cleanup: async () => {
        await Promise.all([store.close(), peer.close()]);
        await db.drop();
      },
    };
  },
  { skip },
);

const subject: Subject = { userId: 'u-1', scenario: 'login' };
const record = (id: string): CodeRecord => ({
  id,
  digest: 'ab'.repeat(32),
  recipient: 'dt-1',
  createdAt: 1_000,
  expiresAt: 301_000,
  maxAttempts: 5,
});

/** describe, or describe.skip with the reason in the block's name. */
const describeUnless = (reason: string | undefined) =>
  reason === undefined
    ? describe
    : (name: string, fn: () => void) => describe.skip(`${name} (skipped: ${reason})`, fn);
const describeMy = describeUnless(skip);
// Jest lists no names for a file whose tests are all skipped: say why once.
if (skip !== undefined) console.warn(`MySQL store tests skipped: ${skip}`);

describeMy('mysql store across replicas', () => {
  let db: { url: string; drop(): Promise<void> };
  let a: VerificationStore;
  let b: VerificationStore;

  beforeEach(async () => {
    db = await freshDatabase();
    [a, b] = await Promise.all([createMySqlStore(db.url), createMySqlStore(db.url)]);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await db.drop();
  });

  it('starts several replicas at once on an empty database', async () => {
    const empty = await freshDatabase();
    try {
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => createMySqlStore(empty.url, { tablePrefix: 'p_' })),
      );
      await Promise.all(stores.map((s) => s.ping()));
      await Promise.all(stores.map((s) => s.close()));
      const tables = await sql(
        empty.url,
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1`,
      );
      expect(tables.map((t) => t.name)).toEqual([
        'p_code',
        'p_delivery',
        'p_failure',
        'p_idempotency',
        'p_kv',
        'p_login_state',
        'p_mobile',
        'p_recall',
        'p_recall_latest',
        'p_secret',
        'p_send',
        'p_settings',
        'p_slot',
      ]);
    } finally {
      await empty.drop();
    }
  });

  it('keeps bindings in its own table, by exact key, and keeps working when another store closes', async () => {
    const binding = { userId: 'u-1', dingtalkUserId: 'dt-1', source: 'mobile' as const, boundAt: 5 };
    await a.putBinding(binding);
    const rows = await sql(db.url, `SELECT CAST(id AS CHAR) AS id FROM gateway_kv`);
    expect(rows).toEqual([{ id: 'binding:u-1' }]);
    await b.close();
    // MySQL's default collations fold case and trailing spaces: keys here compare byte for byte.
    expect(await a.getBinding('U-1')).toBeUndefined();
    expect(await a.getBinding('u-1 ')).toBeUndefined();
    expect(await a.getBinding('u-1')).toEqual(binding);
    expect(await a.deleteBinding('u-1')).toBe(true);
    expect(await a.deleteBinding('u-1')).toBe(false);
  });

  it('keeps users apart that differ only in case, and text that is not Latin-1', async () => {
    await a.saveCode({ userId: 'Alice', scenario: 'login' }, record('c-upper'), 60_000);
    expect(await b.countAttempt({ userId: 'alice', scenario: 'login' })).toEqual({ state: 'missing' });
    const delivery = { ...pendingDelivery, detail: '消息已送达 ✓' };
    await a.putDelivery(delivery, 60_000);
    expect(await b.getDelivery(delivery.verificationId)).toEqual(delivery);
  });

  it('ignores retained rows once they expire and sweeps them away', async () => {
    const swept = await createMySqlStore(db.url, { sweepIntervalMs: 50 });
    try {
      await swept.saveCode(subject, record('c1'), 100);
      expect((await swept.countAttempt(subject)).state).toBe('counted');
      await swept.reserveSend(subject, { cooldownMs: 0, windowMs: 100, maxInWindow: 1 }, Date.now());
      const login = { userId: 'u-1', redirectUri: 'https://idp.example.com/cb', createdAt: 1, expiresAt: 2 };
      await swept.putLoginState('k', login, 100);
      await new Promise((r) => setTimeout(r, 400));
      expect(await a.countAttempt(subject)).toEqual({ state: 'missing' });
      expect(await a.consumeCode(subject, 'c1')).toBe(false);
      const [left] = await sql(
        db.url,
        `SELECT (SELECT count(*) FROM gateway_code) + (SELECT count(*) FROM gateway_send)
           + (SELECT count(*) FROM gateway_login_state) AS n`,
      );
      expect(Number(left.n)).toBe(0);
    } finally {
      await swept.close();
    }
  });
});

describeMy('mysql store configuration', () => {
  it('rejects a table prefix that is not a plain identifier', async () => {
    const { url } = await server();
    await expect(createMySqlStore(url, { tablePrefix: 'a`; DROP' })).rejects.toThrow(/tablePrefix must be/);
  });

  it('wants a database in the URL', async () => {
    await expect(createMySqlStore('mysql://u:hunter2@127.0.0.1:3306')).rejects.toThrow(
      /must name a database/,
    );
  });

  it('does not echo a malformed URL, password included', async () => {
    const err = await createMySqlStore('mysql://u:hunter2@[bad/db').catch((e: unknown) => e);
    expect(inspect(err)).not.toContain('hunter2');
  });

  it('opens for mysql:// and mariadb:// STORE_URLs', async () => {
    const db = await freshDatabase();
    try {
      for (const scheme of ['mysql:', 'mariadb:']) {
        const store = await createStore(Object.assign(new URL(db.url), { protocol: scheme }).toString());
        expect(store.kind).toBe('mysql');
        await store.close();
      }
    } finally {
      await db.drop();
    }
  });

  it('fails fast with store_unavailable when nothing listens at start, or the password is wrong', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await createMySqlStore(`mysql://gateway:hunter2@127.0.0.1:${port}/gateway`).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(isGatewayFailure(err) && err.detail.kind).toBe('store_unavailable');
    expect(inspect(err, { depth: 5 })).not.toContain('hunter2');

    const wrong = Object.assign(new URL((await server()).url), { password: 'hunter2' }).toString();
    const denied = await createMySqlStore(wrong).catch((e: unknown) => e);
    expect(isGatewayFailure(denied) && denied.detail.kind).toBe('store_unavailable');
    expect(inspect(denied, { depth: 5 })).not.toContain('hunter2');
  });
});

const outageSkip = mariadbSkipReason({ throwaway: true });

describeUnless(outageSkip)('mysql store outage', () => {
  let my: MariaDbServer;
  let own = false;

  beforeAll(async () => {
    my = await server();
    if (!my.throwaway) {
      my = await startMariaDb({ throwaway: true });
      own = true;
    }
  });
  afterAll(async () => {
    if (own) await my.close();
  });

  it('rejects every operation with store_unavailable, fast, while the server is down, and recovers with the same store', async () => {
    const warnings: Array<{ o: object; m: string }> = [];
    const store = await createMySqlStore(my.url, {
      tablePrefix: `${freshName()}_`,
      logger: { warn: (o, m) => warnings.push({ o, m }) },
    });
    try {
      const operations = operationsOf(store);
      // Fills the pool with idle connections for the server to drop.
      await Promise.all(operations.map(([, op]) => op()));
      await my.stop();
      for (const [name, op] of operations)
        expect(await expectUnavailable(name, op, my.password)).toBeLessThan(3000);
      // The dropped idle connections were reported, not thrown.
      expect(warnings.some((w) => /idle MySQL connection/.test(w.m))).toBe(true);
      expect(inspect(warnings, { depth: 5 })).not.toContain(my.password);

      await my.restart();
      for (const [, op] of operations) await op();
      expect(await store.getOrCreateSecret('hmac', 'y')).toBe('x');
    } finally {
      await store.close();
    }
  });

  it('gives up on a server that stops answering after its timeout', async () => {
    const target = new URL(my.url);
    const proxy = await freezableProxy(Number(target.port));
    target.port = String(proxy.port);
    const store = await createMySqlStore(target.toString(), {
      tablePrefix: `${freshName()}_`,
      timeoutMs: 500,
    });
    try {
      await store.ping();
      proxy.freeze();
      // A pooled connection that hangs (statement timeout), then a new one that never completes its handshake.
      for (const [name, op] of operationsOf(store).slice(0, 3)) {
        expect(await expectUnavailable(name, op, my.password)).toBeLessThan(1500);
      }
    } finally {
      proxy.close();
      await store.close();
    }
  });
});
