import { connect, createServer, type Socket } from 'node:net';

/** A database or cache server for the tests: one they started, or one the environment names. */
export interface TestServer {
  /** Connection URL, password included. */
  url: string;
  /** The password in `url` (tests check that no error or log carries it); '' when unknown. */
  password: string;
  /** True for a server this process started: only then do stop and restart work. */
  throwaway: boolean;
  /** Stops the server abruptly, as an outage would. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port. */
  restart(): Promise<void>;
  /** Stops the server for good and removes its files. */
  close(): Promise<void>;
}

/** A server named by an environment variable: used as it is, never stopped. */
export function externalServer(variable: string, url: string): TestServer {
  const refuse = () =>
    Promise.reject(new Error(`${variable} names an external server: it cannot be stopped`));
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // Not a URL the tests can read a password from; the server will say what is wrong.
  }
  return { url, password, throwaway: false, stop: refuse, restart: refuse, close: async () => {} };
}

/** A port nothing listens on right now (bound and released on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A loopback TCP proxy to a local server that, once frozen, swallows every byte: a peer that stops answering. */
export function freezableProxy(
  targetPort: number,
): Promise<{ port: number; freeze(): void; close(): void; accepted(): number }> {
  let frozen = false;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    accepted += 1;
    const outbound = connect(targetPort, '127.0.0.1');
    for (const [from, to] of [
      [inbound, outbound],
      [outbound, inbound],
    ]) {
      sockets.add(from);
      from.on('data', (chunk) => frozen || to.write(chunk));
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        freeze: () => (frozen = true),
        accepted: () => accepted,
        close: () => {
          server.close();
          for (const s of sockets) s.destroy();
        },
      }),
    );
  });
}
