import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: Buffer;
  serverCert: string;
  serverKey: string;
  clientCert: Buffer;
  clientKey: Buffer;
  /** Paths, for configuration through *_FILE settings. */
  files: { caCert: string; serverCert: string; serverKey: string };
}

/** A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate, made by openssl. */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'dtg-pki-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  // Every key: a new, unencrypted P-256 key, written to the file that follows.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout'];
  run('req', '-x509', ...newKey, 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca');
  const issue = (name: string, ext: string) => {
    run('req', ...newKey, `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  issue('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f));
  return {
    dir,
    caCert: read('ca.crt'),
    serverCert: read('server.crt').toString(),
    serverKey: read('server.key').toString(),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    files: {
      caCert: join(dir, 'ca.crt'),
      serverCert: join(dir, 'server.crt'),
      serverKey: join(dir, 'server.key'),
    },
  };
}
