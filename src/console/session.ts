import { createHash, timingSafeEqual } from 'node:crypto';

/** A signed-in administrator's browser. */
export interface Session {
  /** Per-session token every form posts back (CSRF). */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

export interface SessionOptions {
  now: () => number;
  random: (n: number) => Buffer;
  /** Sessions end this long after sign-in, however busy; default 8 h. */
  maxAgeMs?: number;
  /** …or after this long without a request; default 30 min. */
  idleMs?: number;
  /** Sessions kept at most; the oldest is dropped to make room. Default 100. */
  max?: number;
}

export type Sessions = ReturnType<typeof createSessions>;

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time equality of two strings of any lengths: both are hashed first, as grpc/auth.ts does. */
export const sameSecret = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b));

/**
 * Server-side sessions. The browser holds a random 256-bit id; the map holds only its
 * SHA-256, so a heap dump or a log of the map never yields a usable cookie. Expired
 * sessions are dropped when met and whenever one is created, so memory stays bounded.
 */
export function createSessions(o: SessionOptions) {
  const maxAgeMs = o.maxAgeMs ?? 8 * 3_600_000;
  const idleMs = o.idleMs ?? 30 * 60_000;
  const max = o.max ?? 100;
  const byHash = new Map<string, Session>();
  const keyOf = (id: string) => sha256(id).toString('base64url');
  const expired = (s: Session, t: number) => t - s.createdAt >= maxAgeMs || t - s.lastSeen >= idleMs;

  const prune = (t: number) => {
    for (const [k, s] of byHash) if (expired(s, t)) byHash.delete(k);
    // Map iteration follows insertion: the first keys are the oldest sessions.
    for (const k of byHash.keys()) {
      if (byHash.size < max) break;
      byHash.delete(k);
    }
  };

  return {
    /** A new session; the id goes into the cookie and nowhere else. */
    create(): { id: string; session: Session } {
      const t = o.now();
      prune(t);
      const id = o.random(32).toString('base64url');
      const session: Session = { csrf: o.random(32).toString('base64url'), createdAt: t, lastSeen: t };
      byHash.set(keyOf(id), session);
      return { id, session };
    },
    /** The live session of this cookie value, its idle clock restarted; undefined when none. */
    get(id: string | undefined): Session | undefined {
      if (!id || id.length > 100) return undefined;
      const k = keyOf(id);
      const s = byHash.get(k);
      if (!s) return undefined;
      const t = o.now();
      if (expired(s, t)) {
        byHash.delete(k);
        return undefined;
      }
      s.lastSeen = t;
      return s;
    },
    destroy(id: string | undefined): void {
      if (id) byHash.delete(keyOf(id));
    },
    get size(): number {
      return byHash.size;
    },
    /** Seconds a fresh session lives at most: the cookie's Max-Age. */
    maxAgeSeconds: Math.floor(maxAgeMs / 1000),
  };
}

/** Whether the form's token is the session's, compared in constant time. */
export const csrfMatches = (session: Session, presented: string | null): boolean =>
  typeof presented === 'string' && presented !== '' && sameSecret(presented, session.csrf);

export interface CookieOptions {
  maxAgeSeconds?: number;
  secure: boolean;
  httpOnly?: boolean;
}

/** A Set-Cookie value: always Path=/ and SameSite=Strict; Secure under TLS; HttpOnly unless told. */
export function cookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', 'SameSite=Strict'];
  if (o.httpOnly !== false) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  if (o.maxAgeSeconds !== undefined) parts.push(`Max-Age=${o.maxAgeSeconds}`);
  return parts.join('; ');
}

/** The request's cookies by name (the first of duplicates wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (!out.has(name)) out.set(name, part.slice(i + 1).trim());
  }
  return out;
}
