import {
  cancelled,
  conflict,
  disabled,
  invalidArgument,
  notBound,
  notFound,
  permissionDenied,
  precondition,
  rateLimited,
  storeUnavailable,
  upstream,
  type GatewayFailure,
  type UpstreamKind,
} from '../../src/domain/errors';
import { toHttpError } from '../../src/http/status';
import { html, trusted } from '../../src/console/html';
import { pickLang } from '../../src/console/i18n';
import { MESSAGES } from '../../src/console/messages';
import { createSessions } from '../../src/console/session';
import { createSignInGuard } from '../../src/console/signin';
import { localPath } from '../../src/console/request';

describe('HTTP status mapping (src/http/status.ts)', () => {
  const up = (kind: UpstreamKind, errcode = 0) =>
    upstream({
      upstream: kind,
      errcode,
      endpoint: 'asyncsend_v2',
      retryable: false,
      message: `DingTalk ${kind}`,
    });
  const CASES: Array<[string, GatewayFailure, number]> = [
    ['invalid_argument', invalidArgument('agent_id', 'must be a positive integer'), 400],
    ['permission_denied', permissionDenied('no'), 403],
    ['not_found', notFound('no such user'), 404],
    ['conflict', conflict('stale'), 409],
    ['precondition', precondition('runtime changes are turned off'), 409],
    ['disabled', disabled('scenario login is disabled'), 409],
    ['not_bound', notBound('carol'), 409],
    ['rate_limited', rateLimited(1500, 'too many'), 429],
    ['store_unavailable', storeUnavailable('readSettings'), 503],
    ['upstream transport', up('transport'), 503],
    ['upstream circuit_open', up('circuit_open'), 503],
    ['upstream credentials', up('credentials', 40096), 409],
    ['upstream rate_limit', up('rate_limit', 90018), 429],
    ['upstream quota', up('quota', 90020), 429],
    ['upstream invalid_parameter', up('invalid_parameter', 40035), 500],
    ['cancelled', cancelled(), 503],
  ];

  it.each(CASES)('%s → %i', (_, error, status) => {
    const mapped = toHttpError(error);
    expect(mapped.status).toBe(status);
    expect(mapped.message).toBe(error.message);
    expect(mapped.unexpected).toBe(false);
  });

  it('keeps the field, the errcode and a retry-after in whole seconds', () => {
    expect(toHttpError(invalidArgument('agent_id', 'bad')).field).toBe('agent_id');
    const dt = toHttpError(
      upstream({
        upstream: 'credentials',
        errcode: 40096,
        endpoint: 'gettoken',
        retryable: false,
        message: 'bad',
      }),
    );
    expect(dt).toMatchObject({ upstream: 'credentials', errcode: 40096, headers: {} });
    expect(toHttpError(rateLimited(1500, 'too many')).headers).toEqual({ 'retry-after': '2' });
  });

  it('turns anything unexpected into 500 "internal error", hiding its message', () => {
    const mapped = toHttpError(new Error('connect ECONNREFUSED 10.0.0.7:6379 password=hunter2'));
    expect(mapped).toMatchObject({
      status: 500,
      kind: 'internal',
      message: 'internal error',
      unexpected: true,
    });
  });
});

describe('console building blocks', () => {
  it('escapes every interpolation unless it is Html', () => {
    const evil = `<script>alert("x")</script>'&`;
    expect(html`<p title="${evil}">${evil}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;</p>',
    );
    expect(html`<p>${[html`<b>${'<i>'}</b>`, trusted('<br>')]}${undefined}${null}${false}${0}</p>`.text).toBe(
      '<p><b>&lt;i&gt;</b><br>false0</p>',
    );
  });

  it.each([
    [undefined, undefined, 'en'],
    [undefined, 'zh-CN,zh;q=0.9,en;q=0.8', 'zh-CN'],
    [undefined, 'zh-TW', 'zh-CN'],
    [undefined, 'en-US,en;q=0.9,zh-CN;q=0.8', 'en'],
    [undefined, 'de-DE,zh;q=0.5', 'zh-CN'],
    [undefined, 'fr-FR', 'en'],
    [undefined, 'en;q=0.2,zh;q=0.9', 'zh-CN'],
    ['en', 'zh-CN', 'en'],
    ['zh-CN', 'en-US', 'zh-CN'],
    ['klingon', 'zh-CN', 'zh-CN'],
  ])('language: cookie %s, Accept-Language %s → %s', (cookie, accept, lang) => {
    expect(pickLang(cookie, accept)).toBe(lang);
  });

  it('has every message in both languages, with the same placeholders', () => {
    for (const [key, [en, zh]] of Object.entries(MESSAGES)) {
      expect([key, en.length > 0, zh.length > 0]).toEqual([key, true, true]);
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect([key, names(zh)]).toEqual([key, names(en)]);
    }
  });

  it('ends a session after 30 idle minutes or 8 hours, whichever comes first', () => {
    let t = 0;
    let n = 0;
    const sessions = createSessions({ now: () => t, random: (size) => Buffer.alloc(size, ++n) });
    const { id } = sessions.create();
    for (let i = 0; i < 16; i++) {
      t += 29 * 60_000;
      expect(sessions.get(id)).toBeDefined();
    }
    t += 29 * 60_000; // 8 h 3 min after sign-in
    expect(sessions.get(id)).toBeUndefined();
    const second = sessions.create().id;
    t += 30 * 60_000;
    expect(sessions.get(second)).toBeUndefined();
  });

  it('keeps at most `max` sessions, dropping the oldest', () => {
    let n = 0;
    const sessions = createSessions({ now: () => 0, random: (size) => Buffer.alloc(size, ++n), max: 3 });
    const ids = [1, 2, 3, 4].map(() => sessions.create().id);
    expect(sessions.size).toBe(3);
    expect(sessions.get(ids[0])).toBeUndefined();
    expect(sessions.get(ids[3])).toBeDefined();
  });

  it('counts failed sign-ins per address only', () => {
    const guard = createSignInGuard({ adminToken: 'the-right-token-123', now: () => 0, maxFailures: 2 });
    expect(guard.check('10.0.0.1', 'x')).toBe(false);
    expect(guard.check('10.0.0.1', 'y')).toBe(false);
    expect(() => guard.check('10.0.0.1', 'the-right-token-123')).toThrow('too many failed sign-ins');
    expect(guard.check('10.0.0.2', 'the-right-token-123')).toBe(true);
  });

  it.each([
    ['/settings?notice=saved', '/settings?notice=saved'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['/a b', '/'],
    [null, '/'],
  ])('a way back %s → %s', (raw, path) => {
    expect(localPath(raw)).toBe(path);
  });
});
