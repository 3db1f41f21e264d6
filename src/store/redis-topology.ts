import { createClient, createCluster, createSentinel } from '@keyv/redis';

/** How the gateway reaches Redis: one server, a master found through Sentinel, or a Cluster. */
export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

/** A STORE_URL for Redis, taken apart. The password stays in here and in `secrets`. */
export interface RedisTarget {
  topology: RedisTopology;
  tls: boolean;
  /** Sentinels (sentinel), seed nodes (cluster) or the one server (standalone). */
  nodes: Array<{ host: string; port: number }>;
  /** The Sentinel master group name (sentinel only). */
  masterName: string;
  username?: string;
  password?: string;
  /** Every form of the password as it may appear in an error: for scrubbing. */
  secrets: string[];
  /** The URL itself, for standalone only (node-redis parses it). */
  url: string;
}

const MULTI = /^(rediss?)\+(sentinel|cluster):\/\/(?:([^@/]*)@)?([^/?#@]+)(?:\/([^?#]*))?$/i;

/**
 * Parses `redis://`, `rediss://` (one server), `redis+sentinel://[user:password@]h1:26379,h2:26379/master`
 * and `redis+cluster://[user:password@]h1:7000,h2:7001` (seed nodes), with `rediss+…` for TLS. The
 * error never carries the URL: it may hold a password.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const m = MULTI.exec(url);
  if (!m) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error('redis store: the store URL is not a valid Redis URL');
    }
    const password = parsed.password ? safeDecode(parsed.password) : undefined;
    return {
      topology: 'standalone',
      tls: parsed.protocol === 'rediss:',
      nodes: [{ host: parsed.hostname, port: Number(parsed.port || 6379) }],
      masterName: '',
      password,
      secrets: parsed.password ? [...new Set([parsed.password, password!])] : [],
      url,
    };
  }
  const [, scheme, topology, userinfo, hostlist, path] = m;
  const colon = userinfo?.indexOf(':') ?? -1;
  const rawPassword = userinfo && colon >= 0 ? userinfo.slice(colon + 1) : '';
  const rawUser = userinfo ? (colon >= 0 ? userinfo.slice(0, colon) : userinfo) : '';
  const nodes = hostlist.split(',').map((h) => {
    const n = /^([^:]+|\[[^\]]+\]):(\d{1,5})$/.exec(h.trim());
    if (!n) throw new Error('redis store: every node in the store URL needs host:port');
    return { host: n[1].replace(/^\[|\]$/g, ''), port: Number(n[2]) };
  });
  const masterName = (path ?? '').replace(/\/$/, '');
  if (topology.toLowerCase() === 'sentinel' && masterName === '')
    throw new Error('redis store: a redis+sentinel:// URL names the master group: …/mymaster');
  const password = rawPassword ? safeDecode(rawPassword) : undefined;
  return {
    topology: topology.toLowerCase() as RedisTopology,
    tls: scheme.toLowerCase() === 'rediss',
    nodes,
    masterName: safeDecode(masterName),
    username: rawUser ? safeDecode(rawUser) : undefined,
    password,
    secrets: rawPassword ? [...new Set([rawPassword, password!])] : [],
    url,
  };
}

function destroy(client: { destroy(): unknown }) {
  try {
    void Promise.resolve(client.destroy()).catch(() => undefined);
  } catch {
    // Already closed.
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** What the store needs of a connection, whatever the topology. */
export interface RedisConnection {
  /** The client to hand to @keyv/redis (a client, a cluster or a sentinel: it accepts all three). */
  client: unknown;
  /** Runs a command on the node that owns `key` (any node when undefined). */
  send(key: string | undefined, args: string[]): Promise<unknown>;
  /** The master(s) in use now, `host:port`, comma-separated for a cluster; '' before connecting. */
  master(): string;
  /** Drops every connection, also one still trying to connect (Keyv only closes an open client). */
  destroy(): void;
}

export interface ConnectionOptions {
  timeoutMs: number;
}

// Retry forever, at most a second apart, with jitter so replicas do not reconnect in step.
const reconnectStrategy = (retries: number) =>
  Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 100);

/** An unconnected client for `target`; @keyv/redis connects it. No offline queue: an outage fails fast. */
export function openRedis(target: RedisTarget, { timeoutMs }: ConnectionOptions): RedisConnection {
  const auth = {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
  };
  if (target.topology === 'standalone') {
    const client = createClient({
      url: target.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: timeoutMs, reconnectStrategy },
    });
    const { host, port } = target.nodes[0];
    return {
      client,
      send: (_key, args) => client.sendCommand(args),
      master: () => `${host}:${port}`,
      destroy: () => destroy(client),
    };
  }
  if (target.topology === 'cluster') {
    const cluster = createCluster({
      rootNodes: target.nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
      defaults: {
        ...auth,
        disableOfflineQueue: true,
        socket: { connectTimeout: timeoutMs, reconnectStrategy, ...(target.tls ? { tls: true } : {}) },
      },
    } as never);
    return {
      client: cluster,
      // Routed by the key's slot; node-redis follows MOVED and ASK itself.
      send: (key, args) => cluster.sendCommand(key, false, args),
      master: () =>
        cluster.masters
          .map((m) => m.address)
          .sort()
          .join(','),
      destroy: () => destroy(cluster),
    };
  }
  const sentinel = createSentinel({
    name: target.masterName,
    sentinelRootNodes: target.nodes,
    // One connection to the master: a WAIT then follows its write on the same connection.
    masterPoolSize: 1,
    nodeClientOptions: {
      ...auth,
      disableOfflineQueue: true,
      socket: { connectTimeout: timeoutMs, ...(target.tls ? { tls: true } : {}) },
    },
    sentinelClientOptions: { socket: { connectTimeout: timeoutMs, ...(target.tls ? { tls: true } : {}) } },
    scanInterval: 2000,
  } as never);
  return {
    client: sentinel,
    send: (_key, args) => sentinel.sendCommand(false, args),
    master: () => {
      const m = sentinel.getMasterNode();
      return m ? `${m.host}:${m.port}` : '';
    },
    destroy: () => destroy(sentinel),
  };
}
