import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { latestCode, startGateway, type TestGateway } from '../helpers/gateway';
import { parseDockerfile } from './dockerfile';

/**
 * deploy/kubernetes: every document of every manifest validates against the official
 * Kubernetes schemas (kubernetes-models), kustomize sees every file, and the pieces fit
 * together: the sidecar's environment is a configuration the gateway accepts in
 * production, its probes speak gRPC to the port it listens on, and its security
 * context matches the image.
 */

const root = join(__dirname, '..', '..');
const dir = join(root, 'deploy', 'kubernetes');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

type Obj = Record<string, any>;

const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const parsed = files.map((file) => {
  const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
  return { file, docs: (Array.isArray(docs) ? docs : [docs]).filter((d) => d.contents !== null) };
});
const kustomization = parsed.find((p) => p.file === 'kustomization.yaml')!.docs[0].toJS() as Obj;
const objects = parsed
  .filter((p) => p.file !== 'kustomization.yaml')
  .flatMap((p) => p.docs.map((d, i) => ({ where: `${p.file}#${i}`, object: d.toJS() as Obj })));
const find = (kind: string, name: string): Obj => {
  const o = objects.find((x) => x.object.kind === kind && x.object.metadata?.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return o.object;
};

const identity = find('Deployment', 'identity-server');
const podSpec = identity.spec.template.spec as Obj;
const sidecar = (podSpec.initContainers as Obj[]).find((c) => c.name === 'dingtalk-gateway')!;
const configMap = find('ConfigMap', 'dingtalk-gateway-config');
const secret = find('Secret', 'dingtalk-gateway-credentials');
const runtime = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8')).pop()!;
const dockerUser = runtime.instructions
  .find((i) => i.keyword === 'USER')!
  .args.split(':')
  .map(Number);
const dockerPort = Number(runtime.instructions.find((i) => i.keyword === 'EXPOSE')!.args);

/** The sidecar's environment as the kubelet would build it: envFrom, then env, with $(VAR) expanded. */
function sidecarEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of sidecar.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find('ConfigMap', from.configMapRef.name).data);
    if (from.secretRef) Object.assign(env, find('Secret', from.secretRef.name).stringData);
  }
  for (const e of sidecar.env as Obj[]) {
    if (e.value !== undefined)
      env[e.name] = String(e.value).replace(/\$\((\w+)\)/g, (m, v: string) => env[v] ?? m);
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      env[e.name] = find('Secret', ref.name).stringData[ref.key];
    } else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      env[e.name] = find('ConfigMap', ref.name).data[ref.key];
    }
  }
  return env;
}

/** The files the sidecar sees: each secret volume's items at its mount path. */
function sidecarFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of sidecar.volumeMounts ?? []) {
    const volume = (podSpec.volumes as Obj[]).find((v) => v.name === m.name)!;
    if (!volume.secret) continue;
    const data = find('Secret', volume.secret.secretName).stringData as Record<string, string>;
    const items: Obj[] = volume.secret.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) out[`${m.mountPath}/${item.path}`] = data[item.key];
  }
  return out;
}

describe('deploy/kubernetes', () => {
  it('parses: every file is YAML without errors or warnings', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const { file, docs } of parsed) {
      expect(docs.length).toBeGreaterThan(0);
      for (const d of docs)
        expect({ file, errors: d.errors, warnings: d.warnings }).toEqual({ file, errors: [], warnings: [] });
    }
  });

  it('validates every object against the Kubernetes schemas', () => {
    const r = spawnSync(process.execPath, [join(__dirname, 'validate-k8s.mjs')], {
      cwd: root,
      input: JSON.stringify(objects),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const results = JSON.parse(r.stdout) as Array<{ where: string; kind: string; error: string | null }>;
    expect(results.map((x) => x.where)).toEqual(objects.map((o) => o.where));
    expect(results.filter((x) => x.error !== null)).toEqual([]);
    expect(new Set(results.map((x) => x.kind))).toEqual(
      new Set(['ConfigMap', 'Secret', 'Deployment', 'Service', 'NetworkPolicy']),
    );
  });

  it('the schema check catches a broken object (it is not vacuous)', () => {
    const broken = structuredClone(identity);
    broken.spec.template.spec.initContainers[0].ports[0].containerPort = 'fifty';
    delete broken.spec.template.spec.containers[0].name;
    const r = spawnSync(process.execPath, [join(__dirname, 'validate-k8s.mjs')], {
      input: JSON.stringify([{ where: 'broken', object: broken }]),
      encoding: 'utf8',
    });
    const [result] = JSON.parse(r.stdout) as Array<{ error: string }>;
    expect(result.error).toMatch(/containerPort must be integer/);
    expect(result.error).toMatch(/must have required property 'name'|required property name/);
  });

  it('kustomization.yaml lists every manifest and pins the gateway image to the package version', () => {
    expect(kustomization).toMatchObject({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
    });
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml').sort(),
    );
    const images = kustomization.images as Obj[];
    expect(images.find((i) => i.name === 'dingtalk-gateway')?.newTag).toBe(pkg.version);
    const used = objects
      .filter((o) => o.object.kind === 'Deployment')
      .flatMap((o) => [
        ...(o.object.spec.template.spec.initContainers ?? []),
        ...o.object.spec.template.spec.containers,
      ])
      .map((c: Obj) => c.image as string);
    for (const image of used.filter((i) => !i.includes(':')))
      expect(images.map((i) => i.name)).toContain(image);
  });

  it('runs the gateway as a native sidecar: an init container with restartPolicy Always', () => {
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.image).toBe('dingtalk-gateway');
    expect((podSpec.containers as Obj[]).map((c) => c.name)).toContain('identity-server');
    for (const d of objects.filter((o) => o.object.kind === 'Deployment').map((o) => o.object))
      expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
  });

  it('probes the gateway over gRPC health on the port it listens on and the image exposes', () => {
    const listenPort = Number(configMap.data.LISTEN_ADDRESS.split(':').pop());
    expect(listenPort).toBe(dockerPort);
    expect(sidecar.ports.find((p: Obj) => p.name === 'grpc').containerPort).toBe(listenPort);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(sidecar[probe]).toMatchObject({ grpc: { port: listenPort } });
      expect(sidecar[probe].exec ?? sidecar[probe].httpGet ?? sidecar[probe].tcpSocket).toBeUndefined();
    }
  });

  it('locks the sidecar down: non-root as the image user, no escalation, read-only root, no capabilities', () => {
    expect(sidecar.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: dockerUser[0],
      runAsGroup: dockerUser[1],
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(podSpec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(podSpec.automountServiceAccountToken).toBe(false);
    for (const c of objects
      .filter((o) => o.object.kind === 'Deployment')
      .flatMap((o) => [
        ...(o.object.spec.template.spec.initContainers ?? []),
        ...o.object.spec.template.spec.containers,
      ])) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(c.resources.limits.memory).toEqual(expect.any(String));
    }
    expect(sidecar.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
  });

  it('names only settings the gateway reads, plus variables other values expand', () => {
    const configSource = readFileSync(join(root, 'src', 'config', 'load.ts'), 'utf8');
    const known = new Set([...configSource.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]));
    if (configSource.includes('env.NODE_ENV')) known.add('NODE_ENV');
    const env = [...Object.keys(configMap.data), ...(sidecar.env as Obj[]).map((e) => e.name as string)];
    const expanded = new Set(
      (sidecar.env as Obj[]).flatMap((e) =>
        [...String(e.value ?? '').matchAll(/\$\((\w+)\)/g)].map((m) => m[1]),
      ),
    );
    expect(env.filter((name) => !known.has(name) && !expanded.has(name))).toEqual([]);
  });

  it('takes credentials from the Secret and settings from the ConfigMap, which resolve to a valid production configuration', () => {
    const env = sidecarEnvironment();
    const files = sidecarFiles();
    const fromSecret = (name: string) =>
      (sidecar.env as Obj[]).find((e) => e.name === name)?.valueFrom?.secretKeyRef?.name ===
      secret.metadata.name;
    expect(fromSecret('DINGTALK_APP_KEY')).toBe(true);
    expect(fromSecret('AUTH_TOKEN')).toBe(true);
    expect(env.DINGTALK_APP_SECRET).toBeUndefined();
    expect(Object.keys(files)).toContain(env.DINGTALK_APP_SECRET_FILE);

    let config;
    try {
      config = loadConfig({
        env,
        readFile: (p) => {
          if (p in files) return files[p];
          throw Object.assign(new Error(`no file ${p}`), { code: 'ENOENT' });
        },
      });
    } catch (e) {
      throw new Error(e instanceof ConfigError ? e.message : String(e));
    }
    expect(config).toMatchObject({
      production: true,
      mode: 'live',
      listenAddress: `0.0.0.0:${dockerPort}`,
      metricsAddress: '0.0.0.0:9464',
      authToken: secret.stringData.AUTH_TOKEN,
    });
    expect(config.dingtalk.appSecret).toBe(secret.stringData['app-secret']);

    // The identity server presents the same token and dials the sidecar on loopback.
    const app = (podSpec.containers as Obj[]).find((c) => c.name === 'identity-server')!;
    const tokenRef = (app.env as Obj[]).find((e) => e.valueFrom?.secretKeyRef)!.valueFrom.secretKeyRef;
    expect(tokenRef).toEqual({ name: secret.metadata.name, key: 'AUTH_TOKEN' });
    expect((app.env as Obj[]).some((e) => e.value === `127.0.0.1:${dockerPort}`)).toBe(true);
  });

  it('shares one Redis between replicas: STORE_URL names the Redis Service, which selects the Redis pods, reachable from the identity server', () => {
    const env = sidecarEnvironment();
    const url = new URL(env.STORE_URL);
    expect(url.protocol).toBe('redis:');
    expect(decodeURIComponent(url.password)).toBe(secret.stringData.REDIS_PASSWORD);
    const service = find('Service', url.hostname);
    expect(service.spec.ports.map((p: Obj) => p.port)).toContain(Number(url.port));
    const redis = objects
      .map((o) => o.object)
      .find((o) => o.kind === 'Deployment' && o.metadata.name !== 'identity-server')!;
    expect(redis.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(identity.spec.replicas).toBeGreaterThan(1);
    const policy = find('NetworkPolicy', service.metadata.name);
    expect(redis.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(identity.spec.template.metadata.labels).toMatchObject(
      policy.spec.ingress[0].from[0].podSelector.matchLabels,
    );
  });

  it('holds placeholders only, never a real secret', () => {
    expect(secret.data).toBeUndefined();
    for (const [key, value] of Object.entries(secret.stringData as Record<string, string>))
      expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^REPLACE_ME/) });
    for (const c of objects.flatMap((o) => JSON.stringify(o.object).match(/"value":"[^"]*"/g) ?? []))
      expect(c).not.toMatch(/REPLACE_ME/);
  });
});

/**
 * deploy/kubernetes/monitoring: a PrometheusRule, which kubernetes-models has no schema for
 * (it is the Prometheus Operator's CRD), so its structure is checked here; and every metric,
 * label and label value its expressions name must be in a real gateway's /metrics, so a
 * renamed metric breaks this test rather than an alert that silently never fires.
 */
describe('deploy/kubernetes/monitoring', () => {
  const monitoring = join(dir, 'monitoring');
  const monitoringFiles = readdirSync(monitoring).filter((f) => /\.ya?ml$/.test(f));
  const docsOf = (file: string) => parseAllDocuments(readFileSync(join(monitoring, file), 'utf8'));
  const rule = docsOf('prometheus-rule.yaml')[0].toJS() as Obj;
  const rules = (rule.spec.groups as Obj[]).flatMap((g) => g.rules as Obj[]);
  const recorded = new Set(rules.filter((r) => r.record).map((r) => r.record as string));
  /** An expression without its quoted strings and template text, for finding names in it. */
  const bare = (expr: string) => expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');

  it('parses, is listed by its own kustomization, and stays out of the base (it needs the CRD)', () => {
    for (const file of monitoringFiles)
      for (const d of docsOf(file))
        expect({ file, errors: d.errors, warnings: d.warnings }).toEqual({ file, errors: [], warnings: [] });
    const k = docsOf('kustomization.yaml')[0].toJS() as Obj;
    expect(k).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    expect([...k.resources].sort()).toEqual(monitoringFiles.filter((f) => f !== 'kustomization.yaml').sort());
    expect(kustomization.resources).not.toContain('monitoring');
  });

  it('is a well-formed PrometheusRule: groups of rules, each a recording rule or an alert', () => {
    expect(rule).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(rule.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    const groups = rule.spec.groups as Obj[];
    expect(new Set(groups.map((g) => g.name)).size).toBe(groups.length);
    const problems: string[] = [];
    for (const g of groups) {
      expect(Object.keys(g).sort()).toEqual(['name', 'rules']);
      for (const r of g.rules as Obj[]) {
        const name = r.record ?? r.alert;
        const allowed = r.record
          ? ['record', 'expr', 'labels']
          : ['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'];
        const extra = Object.keys(r).filter((k) => !allowed.includes(k));
        if ((r.record === undefined) === (r.alert === undefined)) problems.push(`${name}: record or alert`);
        if (extra.length > 0) problems.push(`${name}: unknown keys ${extra.join(', ')}`);
        if (typeof r.expr !== 'string' || r.expr.trim() === '') problems.push(`${name}: no expr`);
        const e = bare(String(r.expr));
        for (const [open, close] of ['()', '{}', '[]'])
          if (e.split(open).length !== e.split(close).length)
            problems.push(`${name}: unbalanced ${open}${close}`);
        if (r.record && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(r.record))
          problems.push(`${name}: bad record name`);
        if (r.alert) {
          if (!/^[A-Z][A-Za-z0-9]*$/.test(r.alert)) problems.push(`${name}: bad alert name`);
          if (r.for !== undefined && !/^\d+(ms|s|m|h|d|w|y)$/.test(r.for)) problems.push(`${name}: bad for`);
          if (!['warning', 'critical'].includes(r.labels?.severity)) problems.push(`${name}: severity`);
          if (typeof r.annotations?.summary !== 'string' || typeof r.annotations?.description !== 'string')
            problems.push(`${name}: summary and description`);
        }
        // Recording rules are used only after they are defined, within the file.
        for (const used of e.match(/\b[a-zA-Z_]+:[a-zA-Z0-9_:]+/g) ?? [])
          if (!recorded.has(used)) problems.push(`${name}: uses ${used}, which no rule records`);
      }
    }
    expect(problems).toEqual([]);
    expect(rules.filter((r) => r.alert).map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'DingTalkGatewayConversionDrop',
        'DingTalkGatewayLockoutBurst',
        'DingTalkGatewaySilentDrops',
        'DingTalkGatewayCircuitOpen',
      ]),
    );
  });

  describe('against the metrics a real gateway serves', () => {
    let gw: TestGateway;
    /** Metric family → the label sets of its samples. */
    const exposed = new Map<string, Array<Record<string, string>>>();
    beforeAll(async () => {
      gw = await startGateway({ METRICS_ADDRESS: '127.0.0.1:0', LOG_LEVEL: 'warn' });
      // A code sent and approved, and a test message DingTalk drops: the series the rules read.
      await gw.verification.sendCode({ userId: 'alice', scenario: Scenario.SCENARIO_LOGIN });
      await gw.verification.verifyCode({
        userId: 'alice',
        scenario: Scenario.SCENARIO_LOGIN,
        code: latestCode(gw, 'demo-alice'),
      });
      await gw.app.store.putBinding({
        userId: 'outsider',
        dingtalkUserId: 'demo-outsider',
        source: 'dingtalk_user_id',
        boundAt: Date.now(),
      });
      await gw.verification.testScenario({ userId: 'outsider', scenario: Scenario.SCENARIO_RISK_WARNING });
      // One connection of its own: no keep-alive socket outlives the test.
      const text = await new Promise<string>((resolve, reject) =>
        get(gw.app.metricsUrl!, { agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve(body));
        }).on('error', reject),
      );
      for (const [, family] of text.matchAll(/^# TYPE (\S+) \S+$/gm)) exposed.set(family, []);
      for (const [, name, labels] of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/gm)) {
        const family = [...exposed.keys()].find((f) => name === f || name.startsWith(`${f}_`)) ?? name;
        exposed
          .get(family)
          ?.push(
            Object.fromEntries(
              [...(labels ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
            ),
          );
      }
    }, 30_000);
    afterAll(() => gw?.stop());

    const selectors = () =>
      rules.flatMap((r) =>
        [...String(r.expr).matchAll(/(?<![\w:])(dtg_[a-zA-Z0-9_]+)(?![\w:])(?:\{([^}]*)\})?/g)].map((m) => ({
          rule: r.record ?? r.alert,
          metric: m[1],
          matchers: [...(m[2] ?? '').matchAll(/(\w+)\s*(=~|!=|!~|=)\s*"([^"]*)"/g)].map((x) => ({
            label: x[1],
            op: x[2],
            value: x[3],
          })),
        })),
      );

    it('names only metrics the gateway exposes', () => {
      const used = selectors();
      expect(used.length).toBeGreaterThan(5);
      expect(used.filter((u) => !exposed.has(u.metric)).map((u) => `${u.rule}: ${u.metric}`)).toEqual([]);
      expect(new Set(used.map((u) => u.metric))).toEqual(
        new Set([
          'dtg_codes_total',
          'dtg_lockouts_total',
          'dtg_limit_refusals_total',
          'dtg_deliveries_total',
          'dtg_dingtalk_circuit_open',
        ]),
      );
    });

    it('matches only labels and label values the gateway reports', () => {
      const problems: string[] = [];
      for (const { rule: name, metric, matchers } of selectors()) {
        const samples = exposed.get(metric) ?? [];
        for (const { label, op, value } of matchers) {
          const values = new Set(samples.map((s) => s[label]).filter((v) => v !== undefined));
          if (values.size === 0) problems.push(`${name}: ${metric} has no label ${label}`);
          const wanted = op === '=~' ? value.split('|') : op === '=' ? [value] : [];
          for (const v of wanted)
            if (!values.has(v)) problems.push(`${name}: ${metric}{${label}="${v}"} never seen`);
        }
      }
      // Every label an aggregation keeps is one of the metrics it reads.
      for (const r of rules) {
        const metrics = [...String(r.expr).matchAll(/(?<![\w:])(dtg_[a-zA-Z0-9_]+)(?![\w:])/g)].map(
          (m) => m[1],
        );
        for (const [, list] of String(r.expr).matchAll(/\bby\s*\(([^)]*)\)/g))
          for (const label of list.split(',').map((l) => l.trim()))
            if (!metrics.some((m) => (exposed.get(m) ?? []).some((s) => label in s)))
              problems.push(`${r.record ?? r.alert}: by (${label}) on metrics without it`);
      }
      expect(problems).toEqual([]);
    });
  });
});
