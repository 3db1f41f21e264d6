import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** HTTPS with this certificate and key; plain HTTP without. */
  tls?: { cert: Buffer; key: Buffer };
  /** Longest a whole request may take: a client that trickles its request is cut off. */
  requestTimeoutMs: number;
  listener: http.RequestListener;
}

/**
 * Starts one of the gateway's own HTTP(S) servers (the console, the hooks) with bounded
 * header and request times and a bounded header count, and resolves once it listens, with
 * the URL it answers on.
 */
export async function listenHttp(o: ListenOptions): Promise<{ server: http.Server; url: string }> {
  const server = o.tls
    ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, o.listener)
    : http.createServer(o.listener);
  server.requestTimeout = o.requestTimeoutMs;
  server.headersTimeout = 10_000;
  server.maxHeadersCount = 50;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return { server, url: `${o.tls ? 'https' : 'http'}://${host}:${port}` };
}
