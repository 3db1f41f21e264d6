import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { connect, healthStatus, rpcError } from '../helpers/grpc-client';
import { makePki, type TestPki } from '../helpers/certs';
import { startGateway } from '../helpers/gateway';

const TOKEN = 'test-token-0123456789abcdef';
const getConfig = (c: ReturnType<typeof connect>, metadata?: Record<string, string>) =>
  c.verification.getConfig({}, { metadata });

describe('bearer token', () => {
  it('is required on every RPC but health, compared without hints', async () => {
    const gw = await startGateway({ AUTH_TOKEN: TOKEN });
    try {
      for (const metadata of [
        undefined,
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: TOKEN },
        { authorization: 'Bearer ' },
      ]) {
        const err = await rpcError(getConfig(gw, metadata));
        expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
        expect(err.details).toBe('missing or invalid bearer token');
      }
      const send = await rpcError(
        gw.verification.sendCode({
          userId: 'alice',
          scenario: Scenario.SCENARIO_LOGIN,
          dingtalkUserId: '',
          mobile: '',
          locale: '',
        }),
      );
      expect(send.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(gw.app.simulator!.inbox).toHaveLength(0);
      await expect(getConfig(gw, { authorization: `Bearer ${TOKEN}` })).resolves.toMatchObject({
        enabled: true,
      });
      expect(await healthStatus(gw.app.grpc.address)).toBe('SERVING');
      expect(gw.logText()).not.toContain(TOKEN);
    } finally {
      await gw.stop();
    }
  });
});

describe('TLS', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makePki();
  });

  it('serves TLS to clients that trust the CA', async () => {
    const creds = grpc.credentials.createSsl(pki.caCert);
    const gw = await startGateway(
      { TLS_CERT_FILE: pki.files.serverCert, TLS_KEY_FILE: pki.files.serverKey },
      {},
      creds,
    );
    try {
      await expect(getConfig(gw)).resolves.toMatchObject({ enabled: true });
      const plain = connect(gw.app.grpc.address);
      expect((await rpcError(getConfig(plain))).code).toBe(grpc.status.UNAVAILABLE);
      plain.close();
    } finally {
      await gw.stop();
    }
  });

  it('with a client CA, requires a client certificate (mutual TLS)', async () => {
    const withCert = grpc.credentials.createSsl(pki.caCert, pki.clientKey, pki.clientCert);
    const gw = await startGateway(
      {
        TLS_CERT_FILE: pki.files.serverCert,
        TLS_KEY_FILE: pki.files.serverKey,
        TLS_CLIENT_CA_FILE: pki.files.caCert,
      },
      {},
      withCert,
    );
    try {
      await expect(getConfig(gw)).resolves.toMatchObject({ enabled: true });
      const anonymous = connect(gw.app.grpc.address, grpc.credentials.createSsl(pki.caCert));
      expect((await rpcError(getConfig(anonymous))).code).toBe(grpc.status.UNAVAILABLE);
      anonymous.close();
    } finally {
      await gw.stop();
    }
  });
});

describe('unix socket', () => {
  it('listens on unix:/path for same-pod callers', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'dtg-sock-')), 'gw.sock');
    const gw = await startGateway({ LISTEN_ADDRESS: `unix:${path}` });
    try {
      expect(gw.app.grpc.address).toBe(`unix:${path}`);
      await expect(getConfig(gw)).resolves.toMatchObject({ enabled: true });
    } finally {
      await gw.stop();
    }
  });
});
