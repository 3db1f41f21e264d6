import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config';
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
