import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { makePki, type TestPki } from '../helpers/certs';
import { dtg, type RunResult } from '../helpers/dtg';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { freePort, freezableProxy } from '../helpers/net';

/**
 * How the built `dtg` reaches a gateway: TLS with a private CA, mutual TLS, the bearer token
 * from a flag, a file or the gateway's own environment variables, and what it says when
 * nothing answers. The token must never appear in anything dtg prints.
 */

const TOKEN = 'cli-test-token-0123456789abcdef';
const WRONG = 'cli-wrong-token-0123456789abcdef';

const expectSandboxConfig = (r: RunResult) => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^mode +sandbox/m);
};

describe('dtg over TLS', () => {
  let pki: TestPki;
  let clientCert: string;
  let clientKey: string;
  beforeAll(() => {
    pki = makePki();
    clientCert = join(pki.dir, 'client.crt');
    clientKey = join(pki.dir, 'client.key');
  });

  it('--ca trusts a private CA; plaintext, or TLS with only the system roots, fails with a hint', async () => {
    const gw = await startGateway(
      { TLS_CERT_FILE: pki.files.serverCert, TLS_KEY_FILE: pki.files.serverKey },
      {},
      grpc.credentials.createSsl(pki.caCert),
    );
    const address = ['--address', gw.app.grpc.address];
    try {
      expectSandboxConfig(await dtg([...address, '--ca', pki.files.caCert, 'config']));
      const plain = await dtg([...address, 'config']);
      expect(plain.status).toBe(1);
      expect(plain.stderr).toMatch(/^dtg: UNAVAILABLE: /);
      expect(plain.stderr).toContain('if it serves TLS, add --tls or --ca FILE');
      const systemRoots = await dtg([...address, '--tls', 'config']);
      expect(systemRoots.status).toBe(1);
      expect(systemRoots.stderr).toMatch(/^dtg: UNAVAILABLE: .*certificate/);
      expect(systemRoots.stderr).toContain(`dtg: hint: the TLS handshake with ${gw.app.grpc.address} failed`);
      // The certificate names 127.0.0.1 and localhost: --server-name checks against the name given.
      const ca = [...address, '--ca', pki.files.caCert];
      expectSandboxConfig(await dtg([...ca, '--server-name', 'localhost', 'config']));
      const wrongName = await dtg([...ca, '--server-name', 'gateway.example', 'config']);
      expect(wrongName.status).toBe(1);
      expect(wrongName.stderr).toMatch(/^dtg: UNAVAILABLE: .*gateway\.example/);
      // Health needs no token but still goes through TLS.
      expect((await dtg([...ca, 'health'])).stdout).toBe('health: SERVING\n');
    } finally {
      await gw.stop();
    }
  });

  it('--cert and --key present a client certificate to a gateway that requires one (mutual TLS)', async () => {
    const gw = await startGateway(
      {
        TLS_CERT_FILE: pki.files.serverCert,
        TLS_KEY_FILE: pki.files.serverKey,
        TLS_CLIENT_CA_FILE: pki.files.caCert,
      },
      {},
      grpc.credentials.createSsl(pki.caCert, pki.clientKey, pki.clientCert),
    );
    const ca = ['--address', gw.app.grpc.address, '--ca', pki.files.caCert];
    try {
      expectSandboxConfig(await dtg([...ca, '--cert', clientCert, '--key', clientKey, 'config']));
      const sent = await dtg([...ca, '--cert', clientCert, '--key', clientKey, 'send', 'login', 'alice']);
      expect(sent.stdout).toMatch(/^sent: verification id /);
      const anonymous = await dtg([...ca, 'config']);
      expect(anonymous.status).toBe(1);
      expect(anonymous.stderr).toMatch(/^dtg: UNAVAILABLE: /);
      const halfPair = await dtg([...ca, '--cert', clientCert, 'config']);
      expect(halfPair.status).toBe(2);
      expect(halfPair.stderr).toMatch(/^dtg: --cert and --key: give both or neither\n/);
    } finally {
      await gw.stop();
    }
  });
});

describe('dtg with a bearer token', () => {
  let gw: TestGateway;
  let dir: string;
  const seen: RunResult[] = [];
  const call = async (args: string[], env?: Record<string, string>) => {
    const r = await dtg(['--address', gw.app.grpc.address, ...args], { env });
    seen.push(r);
    return r;
  };

  beforeAll(async () => {
    gw = await startGateway({ AUTH_TOKEN: TOKEN });
    dir = mkdtempSync(join(tmpdir(), 'dtg-token-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'wrong'), WRONG, { mode: 0o600 });
  });
  afterAll(async () => {
    await gw.stop();
    // Nothing dtg printed, in any test here, holds either token.
    expect(seen.length).toBeGreaterThan(8);
    for (const r of seen) expect(r.stdout + r.stderr).not.toMatch(new RegExp(`${TOKEN}|${WRONG}`));
  });

  it('without a token: UNAUTHENTICATED, with a hint naming the ways to give one', async () => {
    const r = await call(['config']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'dtg: UNAUTHENTICATED: missing or invalid bearer token\n' +
        'dtg: hint: the gateway requires a bearer token: --token-file FILE, or AUTH_TOKEN / AUTH_TOKEN_FILE in the environment\n',
    );
  });

  it('with a wrong token: UNAUTHENTICATED, naming where the token came from', async () => {
    for (const [args, env, source] of [
      [['--token', WRONG], undefined, '--token'],
      [['--token-file', join(dir, 'wrong')], undefined, '--token-file'],
      [[], { AUTH_TOKEN: WRONG }, 'AUTH_TOKEN'],
    ] as const) {
      const r = await call([...args, 'binding', 'alice'], env);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^dtg: UNAUTHENTICATED: /);
      expect(r.stderr).toContain(`refused the bearer token from ${source}\n`);
    }
  });

  it('with the right token from --token-file, --token, AUTH_TOKEN or AUTH_TOKEN_FILE: the call succeeds', async () => {
    const ways: Array<[string[], Record<string, string> | undefined]> = [
      [['--token-file', join(dir, 'token')], undefined],
      [['--token', TOKEN], undefined],
      [[], { AUTH_TOKEN: TOKEN }],
      [[], { AUTH_TOKEN_FILE: join(dir, 'token') }],
      // A flag wins over the environment.
      [['--token-file', join(dir, 'token')], { AUTH_TOKEN: WRONG }],
    ];
    for (const [args, env] of ways) {
      const r = await call([...args, 'binding', 'alice'], env);
      expect([args, env, r.status, r.stderr]).toEqual([args, env, 0, '']);
      expect(r.stdout).toMatch(/^alice → demo-alice /);
    }
  });

  it('health needs no token; help shows none; both token variables at once is bad usage', async () => {
    expect((await call(['health'])).stdout).toBe('health: SERVING\n');
    const help = await call(['send', '--help'], { AUTH_TOKEN: TOKEN });
    expect(help.status).toBe(0);
    const both = await call(['config'], { AUTH_TOKEN: TOKEN, AUTH_TOKEN_FILE: join(dir, 'token') });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/^dtg: AUTH_TOKEN and AUTH_TOKEN_FILE are both set/);
    const unreadable = await call(['--token-file', join(dir, 'missing'), 'config']);
    expect(unreadable.status).toBe(2);
    expect(unreadable.stderr).toMatch(/^dtg: --token-file: cannot read .*missing: ENOENT\n/);
  });
});

describe('dtg when the gateway cannot be reached', () => {
  it('nothing listening: UNAVAILABLE within the deadline, with a hint naming the address', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const r = await dtg(['--address', address, '--timeout', '3', 'config']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^dtg: UNAVAILABLE: .*ECONNREFUSED/);
    expect(r.stderr).toContain(`dtg: hint: nothing answered at ${address}; is the gateway running there?`);
    expect(r.ms).toBeLessThan(3000);
    const socket = `unix:${join(mkdtempSync(join(tmpdir(), 'dtg-sock-')), 'none.sock')}`;
    const health = await dtg(['--address', socket, 'health']);
    expect(health.status).toBe(1);
    expect(health.stderr).toContain(`nothing answered at ${socket}`);
  });

  it('a peer that accepts but never answers: the call ends at --timeout, exit 1', async () => {
    const gw = await startGateway();
    const proxy = await freezableProxy(Number(gw.app.grpc.address.split(':')[1]));
    proxy.freeze();
    try {
      const r = await dtg(['--address', `127.0.0.1:${proxy.port}`, '--timeout', '1', 'config']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^dtg: (DEADLINE_EXCEEDED|UNAVAILABLE): /);
      expect(r.ms).toBeGreaterThanOrEqual(1000);
      expect(r.ms).toBeLessThan(4000);
    } finally {
      proxy.close();
      await gw.stop();
    }
  });
});
