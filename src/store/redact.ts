/**
 * Keeps the connection password out of errors and logs. Driver errors are passed on
 * as causes and logged, so anything that might carry the URL's password is checked.
 */

/** The password as written in the URL and decoded; empty when there is none. */
export function passwordForms(url: string, scheme = 'postgres'): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not rethrown: the URL parser's TypeError carries the whole input, password included.
    throw new Error(`${scheme} store: the store URL is not a valid ${scheme}:// URL`);
  }
  if (parsed.password === '') return [];
  let decoded = parsed.password;
  try {
    decoded = decodeURIComponent(parsed.password);
  } catch {
    // A malformed escape: the driver sees the raw form only.
  }
  return [...new Set([parsed.password, decoded])];
}

/** Returns `e` unchanged unless some text in it contains a secret; then a redacted copy. */
export function scrub(e: unknown, secrets: string[]): unknown {
  if (!(e instanceof Error) || secrets.length === 0) return e;
  const texts = [
    e.message,
    e.stack ?? '',
    ...Object.values(e).filter((v): v is string => typeof v === 'string'),
  ];
  if (!texts.some((t) => secrets.some((s) => t.includes(s)))) return e;
  const redact = (t: string) => secrets.reduce((acc, s) => acc.split(s).join('***'), t);
  const copy = new Error(redact(e.message));
  copy.name = e.name;
  copy.stack = redact(e.stack ?? '');
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? Object.assign(copy, { code }) : copy;
}

/** What a log line needs of a driver error: never the client object pg attaches to idle errors. */
export function summary(e: unknown): object {
  if (!(e instanceof Error)) return { message: String(e) };
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
}
