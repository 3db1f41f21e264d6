// A load generator for the HTTP hooks, run as its own process: Supabase Auth's Send SMS hook
// as Supabase sends it (Standard Webhooks signatures, one fresh webhook id and user per call),
// over keep-alive HTTP/1.1 connections, one request in flight on each: a fixed number in flight
// (closed loop), or issued at a fixed rate, up to `concurrency` in flight (open loop), as loadgen.mjs.
//
// Usage: node bench/hookgen.mjs '<json options>'; prints one JSON result line, shaped as
// loadgen.mjs's, plus `ok` and `errors` (by HTTP status): the gateway's metrics count gRPC only.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { drive } from './drive.mjs';

const o = JSON.parse(process.argv[2]);
const {
  target,
  secret,
  concurrency = 50,
  rate = 0, // requests per second; 0 = closed loop
  durationMs = 10_000,
  warmupMs = 2_000,
  runId = String(Date.now()),
} = o;
const url = new URL('/hooks/supabase', target);
const key = Buffer.from(secret.slice('v1,whsec_'.length), 'base64');
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const phones = ['8613800000001', '8613800000002'];

/** Request k: its body and Standard Webhooks headers, signed as Supabase signs them. */
function request(k) {
  const body = JSON.stringify({
    metadata: { uuid: `${runId}-${k}`, name: 'send-sms', ip_address: '127.0.0.1' },
    user: { id: `h${runId}-${k}`, phone: phones[k & 1] },
    sms: { otp: String(100_000 + (k % 900_000)), sms_type: 'sms' },
  });
  const id = `msg_${runId}_${k}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  const headers = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'webhook-id': id,
    'webhook-timestamp': ts,
    'webhook-signature': `v1,${sig}`,
  };
  return { body, headers };
}

const statuses = {};

drive({
  rate,
  concurrency,
  warmupMs,
  durationMs,
  issue(k, done) {
    const { body, headers } = request(k);
    const ended = (status) => {
      // Every answer is counted by status, warm-up included, as the gateway counts its gRPC calls.
      statuses[status] = (statuses[status] ?? 0) + 1;
      done(status === 200);
    };
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => ended(res.statusCode));
    });
    req.on('error', () => ended(0));
    req.end(body);
  },
  report(figures) {
    const ok = statuses[200] ?? 0;
    const errors = Object.fromEntries(
      Object.entries(statuses)
        .filter(([s]) => s !== '200')
        .map(([s, n]) => [`http ${s}`, n]),
    );
    const result = {
      generator: 'http1-keepalive',
      kind: 'hook',
      concurrency,
      connections: concurrency,
      rate,
      ...figures,
      resets: 0,
      goaways: 0,
      ok,
      errors,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    setTimeout(() => process.exit(0), 200);
  },
});
