// The gateway as the benchmark runs it: what dist/main.js does (configuration from the
// environment, createApp), plus one bench-only step, BENCH_SEED_CODES: that many codes
// are stored through the app's own store before it reports ready, for users u0, u1, …
// with the codes bench/proto.mjs's codeOf() gives, digested under CODE_SECRET. Seeding
// through the store API keeps the key and record format exactly the store's.
// Reports { address, metricsUrl } over IPC; SIGTERM closes it.
import { readFileSync } from 'node:fs';
import { createApp } from '../dist/app.js';
import { loadConfig } from '../dist/config/index.js';
import { digestCode } from '../dist/domain/code.js';
import { createLogger } from '../dist/logger.js';
import { codeOf, seededUser } from './proto.mjs';

const config = loadConfig({ env: process.env, readFile: (p) => readFileSync(p, 'utf8') });
if (!config.codeSecret) throw new Error('the benchmark needs CODE_SECRET to seed codes it can verify');
const app = await createApp(config, { logger: createLogger(config.logLevel) });

const seed = Number(process.env.BENCH_SEED_CODES ?? 0);
const policy = config.scenarios.login;
const started = Date.now();
const batch = app.store.kind === 'memory' ? 1 : 500;
for (let from = 0; from < seed; from += batch) {
  const now = Date.now();
  const work = [];
  for (let i = from; i < Math.min(seed, from + batch); i++) {
    const id = `seed-${i}`;
    work.push(
      app.store.saveCode(
        { userId: seededUser(i), scenario: 'login' },
        {
          id,
          digest: digestCode(config.codeSecret, id, codeOf(i)),
          recipient: 'demo-alice',
          createdAt: now,
          expiresAt: now + policy.ttlSeconds * 1000,
          maxAttempts: policy.maxAttempts,
        },
        policy.ttlSeconds * 1000 + 15 * 60_000, // as the service keeps them (EXPIRED_RETENTION_MS)
      ),
    );
  }
  await Promise.all(work);
}
const seedMs = Date.now() - started;
globalThis.gc?.();
process.send({
  address: app.grpc.address,
  metricsUrl: app.metricsUrl,
  hooksUrl: app.hooks?.url,
  seeded: seed,
  seedMs,
});
process.on('SIGTERM', () => {
  app.close(1000).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
