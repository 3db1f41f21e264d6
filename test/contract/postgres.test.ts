import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Client } from 'pg';
import type { CodeRecord } from '../../src/domain/code';
import { isGatewayFailure } from '../../src/domain/errors';
import { createPostgresStore } from '../../src/store/postgres';
import type { Subject, VerificationStore } from '../../src/verification/ports';
import { freePort, freezableProxy } from '../helpers/net';
import { postgresSkipReason, startPostgres, type PostgresServer } from '../helpers/postgres-server';
import { expectUnavailable, operationsOf } from './fixtures';
import { describeStoreContract } from './store.contract';

const skip = postgresSkipReason();
let shared: Promise<PostgresServer> | undefined;
const server = () => (shared ??= startPostgres());
afterAll(async () => {
  await (await shared)?.close();
});

let schemas = 0;
const freshSchema = () => `t${++schemas}_${randomBytes(4).toString('hex')}`;

async function sql(url: string, text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

describeStoreContract(
  'postgres',
  async () => {
    const { url } = await server();
    const schema = freshSchema();
    // Two stores on one schema are two replicas: two pools, separate connections.
    const [store, peer] = await Promise.all([
      createPostgresStore(url, { schema }),
      createPostgresStore(url, { schema }),
    ]);
    return {
      store,
      peer,
      reopen: () => createPostgresStore(url, { schema }),
      cleanup: async () => {
        await Promise.all([store.close(), peer.close()]);
        await sql(url, `DROP SCHEMA ${schema} CASCADE`);
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
const describePg = describeUnless(skip);
// Jest lists no names for a file whose tests are all skipped: say why once.
if (skip !== undefined) console.warn(`PostgreSQL store tests skipped: ${skip}`);

describePg('postgres store across replicas', () => {
  let url: string;
  let schema: string;
  let a: VerificationStore;
  let b: VerificationStore;

  beforeEach(async () => {
    ({ url } = await server());
    schema = freshSchema();
    // Two stores on one schema are two replicas: two pools, separate connections.
    [a, b] = await Promise.all([createPostgresStore(url, { schema }), createPostgresStore(url, { schema })]);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await sql(url, `DROP SCHEMA ${schema} CASCADE`);
  });

  it('starts several replicas at once on an empty schema', async () => {
    const fresh = freshSchema();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => createPostgresStore(url, { schema: fresh, tablePrefix: 'p_' })),
    );
    await Promise.all(stores.map((s) => s.ping()));
    await Promise.all(stores.map((s) => s.close()));
    const tables = await sql(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [fresh],
    );
    expect(tables.map((t) => t.table_name)).toEqual([
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
    await sql(url, `DROP SCHEMA ${fresh} CASCADE`);
  });

  it('keeps bindings in its own schema and keeps working when another store on the same URL closes', async () => {
    await a.putBinding({ userId: 'u-1', dingtalkUserId: 'dt-1', source: 'mobile', boundAt: 5 });
    const rows = await sql(url, `SELECT key FROM ${schema}.gateway_kv`);
    expect(rows).toEqual([{ key: 'binding:u-1' }]);
    await b.close();
    expect(await a.getBinding('u-1')).toEqual({
      userId: 'u-1',
      dingtalkUserId: 'dt-1',
      source: 'mobile',
      boundAt: 5,
    });
    expect(await a.deleteBinding('u-1')).toBe(true);
    expect(await a.deleteBinding('u-1')).toBe(false);
  });

  it('ignores retained rows once they expire and sweeps them away', async () => {
    const swept = await createPostgresStore(url, { schema, sweepIntervalMs: 50 });
    try {
      await swept.saveCode(subject, record('c1'), 100);
      expect((await swept.countAttempt(subject)).state).toBe('counted');
      await swept.reserveSend(subject, { cooldownMs: 0, windowMs: 100, maxInWindow: 1 }, Date.now());
      const login = { userId: 'u-1', redirectUri: 'https://idp.example.com/cb', createdAt: 1, expiresAt: 2 };
      await swept.putLoginState('k', login, 100);
      await new Promise((r) => setTimeout(r, 400));
      expect(await a.countAttempt(subject)).toEqual({ state: 'missing' });
      expect(await a.consumeCode(subject, 'c1')).toBe(false);
      const left = await sql(
        url,
        `SELECT (SELECT count(*) FROM ${schema}.gateway_code) + (SELECT count(*) FROM ${schema}.gateway_send)
           + (SELECT count(*) FROM ${schema}.gateway_login_state) AS n`,
      );
      expect(Number(left[0].n)).toBe(0);
    } finally {
      await swept.close();
    }
  });
});

describePg('postgres store configuration', () => {
  it('rejects a schema that is not a plain identifier', async () => {
    const { url } = await server();
    await expect(createPostgresStore(url, { schema: 'a"; DROP' })).rejects.toThrow(/schema must be/);
  });

  it('does not echo a malformed URL, password included', async () => {
    const err = await createPostgresStore('postgres://u:hunter2@[bad/db').catch((e: unknown) => e);
    expect(inspect(err)).not.toContain('hunter2');
  });

  it('fails fast with store_unavailable when nothing listens at start', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await createPostgresStore(`postgresql://gateway:hunter2@127.0.0.1:${port}/postgres`).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(isGatewayFailure(err) && err.detail.kind).toBe('store_unavailable');
    expect(inspect(err, { depth: 5 })).not.toContain('hunter2');
  });
});

const outageSkip = postgresSkipReason({ throwaway: true });

describeUnless(outageSkip)('postgres store outage', () => {
  let pg: PostgresServer;
  let own = false;

  beforeAll(async () => {
    pg = await server();
    if (!pg.throwaway) {
      pg = await startPostgres({ throwaway: true });
      own = true;
    }
  });
  afterAll(async () => {
    if (own) await pg.close();
  });

  it('rejects every operation with store_unavailable, fast, while the server is down, and recovers with the same store', async () => {
    const warnings: Array<{ o: object; m: string }> = [];
    const store = await createPostgresStore(pg.url, {
      schema: freshSchema(),
      logger: { warn: (o, m) => warnings.push({ o, m }) },
    });
    try {
      const operations = operationsOf(store);
      // Fills the pool with idle connections for the server to terminate.
      await Promise.all(operations.map(([, op]) => op()));
      await pg.stop();
      for (const [name, op] of operations)
        expect(await expectUnavailable(name, op, pg.password)).toBeLessThan(3000);
      // The terminated idle connections were reported, not thrown.
      expect(warnings.some((w) => /idle PostgreSQL connection/.test(w.m))).toBe(true);
      expect(inspect(warnings, { depth: 5 })).not.toContain(pg.password);

      await pg.restart();
      for (const [, op] of operations) await op();
      expect(await store.getOrCreateSecret('hmac', 'y')).toBe('x');
    } finally {
      await store.close();
    }
  });

  it('gives up on a server that stops answering after its timeout', async () => {
    const target = new URL(pg.url);
    const proxy = await freezableProxy(Number(target.port));
    target.port = String(proxy.port);
    const store = await createPostgresStore(target.toString(), { schema: freshSchema(), timeoutMs: 500 });
    try {
      await store.ping();
      proxy.freeze();
      // A pooled connection that hangs (query timeout), then a new one that never completes its startup.
      for (const [name, op] of operationsOf(store).slice(0, 2)) {
        expect(await expectUnavailable(name, op, pg.password)).toBeLessThan(1500);
      }
    } finally {
      proxy.close();
      await store.close();
    }
  });
});
