/**
 * deploy/k8s: every overlay builds with a real kustomize (kubectl kustomize) and every object it
 * builds validates against the Kubernetes schemas (kubernetes-models; the CRDs by hand); the base
 * holds no Secret and each overlay brings its keys; the kustomizations list every file; and, on the
 * built prometheus-operator overlay, the cross-references hold — selectors, ports, probe paths
 * (answered by the real app), env names (loaded by the real config loader), shared volumes, the
 * drain budget, and the trainer's single-writer policy.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../../src/server/app.ts';
import { CONFIG_SCHEMA, ConfigError, loadConfig } from '../../src/server/config.ts';
import {
  buildOverlays,
  isKustomization,
  K8S_DIR,
  type K8sObject,
  type LoadedDocument,
  listFiles,
  loadDocuments,
  MODELS,
  OVERLAYS,
  selects,
  TEST_KEYS,
} from './k8s-objects.ts';

const docs: LoadedDocument[] = await loadDocuments();
const built = await buildOverlays(['base', ...OVERLAYS]);
/** The fullest overlay: external secret and ServiceMonitor; the cross-reference tests run on it. */
const objects = built.get('overlays/prometheus-operator')!;

function one(kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''}`);
  return found[0];
}

const deployment = one('Deployment', 'chexpo');
const cronJob = one('CronJob', 'chexpo-trainer');
const service = one('Service', 'chexpo');
const configMap = one('ConfigMap', 'chexpo-config');
const externalSecret = one('ExternalSecret', 'chexpo-api-keys');
const podSpec = deployment.spec.template.spec;
const server = podSpec.containers.find((c: { name: string }) => c.name === 'chexpo');
const trainerPod = cronJob.spec.jobTemplate.spec.template.spec;
const SCHEMA_VARIABLES = new Set(Object.keys(CONFIG_SCHEMA.properties ?? {}));
const VALID_KEYS = 'k8s-test-key-0123456789:answer,feedback';

/** Checks one built object: kubernetes-models for core kinds, the CRDs' required fields by hand. */
function validate(object: K8sObject, overlay: string): void {
  const where = `${overlay}: ${object.kind} ${object.metadata.name}`;
  assert.equal(object.metadata.namespace ?? 'chexpo', 'chexpo', `${where}: namespace`);
  if (object.kind === 'ExternalSecret') {
    assert.equal(object.apiVersion, 'external-secrets.io/v1', where);
    assert.ok(
      object.spec.secretStoreRef?.name && object.spec.secretStoreRef?.kind,
      `${where}: secretStoreRef`,
    );
    assert.ok(object.spec.target?.name, `${where}: target.name`);
    assert.ok(
      object.spec.data.every(
        (d: { secretKey?: string; remoteRef?: { key?: string } }) => d.secretKey && d.remoteRef?.key,
      ),
      `${where}: data`,
    );
    return;
  }
  if (object.kind === 'ServiceMonitor') {
    assert.equal(object.apiVersion, 'monitoring.coreos.com/v1', where);
    assert.ok(object.spec.selector?.matchLabels, `${where}: selector.matchLabels`);
    assert.ok(
      Array.isArray(object.spec.endpoints) && object.spec.endpoints.length > 0,
      `${where}: endpoints`,
    );
    return;
  }
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  assert.ok(Model, `${where}: no schema for ${object.apiVersion}/${object.kind}`);
  // kustomize wraps long base64 values over lines; the API server's decoder (Go's base64) skips line
  // breaks, the schema's `byte` format does not: compare the value as the server reads it.
  const asRead =
    object.kind === 'Secret' && object.data
      ? {
          ...object,
          data: Object.fromEntries(Object.entries(object.data).map(([k, v]) => [k, v.replace(/\n/g, '')])),
        }
      : object;
  assert.doesNotThrow(() => new Model(asRead as never).validate(), where);
}

test('every overlay builds with kustomize, and every object it builds validates', () => {
  for (const [overlay, built_] of built) {
    assert.ok(built_.length >= 13, `${overlay}: ${built_.length} objects`);
    for (const object of built_) validate(object, overlay);
  }
});

test('the base holds no Secret; each overlay brings the keys the server reads, under the name it reads', () => {
  const secretRefs = (objs: K8sObject[]) =>
    objs
      .filter((o) => o.kind === 'Deployment' || o.kind === 'CronJob')
      .flatMap((o) => {
        const pod = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
        return [...pod.containers, ...(pod.initContainers ?? [])];
      })
      .flatMap((c: { envFrom?: { secretRef?: { name: string } }[] }) => c.envFrom ?? [])
      .flatMap((ref) => (ref.secretRef ? [ref.secretRef.name] : []));
  assert.equal(
    built.get('base')!.filter((o) => o.kind === 'Secret' || o.kind === 'ExternalSecret').length,
    0,
    'no Secret in the base: applying an overlay never overwrites a real key with a placeholder',
  );
  assert.deepEqual(secretRefs(built.get('base')!), ['chexpo-api-keys']);

  // From a file: a generated Secret (hash-suffixed name, references rewritten) with the file's keys.
  const fromFile = built.get('overlays/secret-file')!;
  const generated = fromFile.filter((o) => o.kind === 'Secret');
  assert.equal(generated.length, 1);
  assert.match(generated[0].metadata.name, /^chexpo-api-keys-[a-z0-9]+$/);
  assert.deepEqual(secretRefs(fromFile), [generated[0].metadata.name]);
  const keys = Buffer.from(generated[0].data!.CHEXPO_API_KEYS, 'base64').toString('utf8');
  assert.equal(keys, TEST_KEYS);
  const configData = fromFile.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === 'chexpo-config',
  )!.data;
  assert.doesNotThrow(() => loadConfig({ ...configData, CHEXPO_API_KEYS: keys, NODE_ENV: 'production' }));

  // From a store: the ExternalSecret creates the Secret the pods read, and no Secret is applied.
  for (const overlay of ['overlays/external-secret', 'overlays/prometheus-operator']) {
    const objs = built.get(overlay)!;
    assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0, overlay);
    const external = objs.find((o) => o.kind === 'ExternalSecret')!;
    assert.deepEqual(secretRefs(objs), [external.spec.target.name], overlay);
    assert.deepEqual(
      external.spec.data.map((d: { secretKey: string }) => d.secretKey),
      ['CHEXPO_API_KEYS'],
    );
  }
});

test('the schema check catches a broken manifest (it can fail)', () => {
  const broken = structuredClone(deployment);
  broken.spec.replicas = 'two';
  delete broken.spec.template.spec.containers[0].readinessProbe.httpGet.port;
  assert.throws(() => new MODELS['apps/v1/Deployment'](broken as never).validate(), /replicas|port/);
});

test('the kustomizations list every manifest and generated file, and nothing missing', async () => {
  const files = await listFiles();
  const listed = new Set<string>();
  for (const { file, object } of docs.filter((d) => isKustomization(d.object))) {
    const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
    const spec = object as unknown as {
      resources?: string[];
      configMapGenerator?: { files?: string[] }[];
      secretGenerator?: { envs?: string[] }[];
    };
    const entries = [
      ...(spec.resources ?? []),
      ...(spec.configMapGenerator ?? []).flatMap((g) => g.files ?? []),
    ];
    // The env file users write is never committed; its example stands for it.
    const userFiles = (spec.secretGenerator ?? []).flatMap((g) => g.envs ?? []);
    for (const entry of userFiles) {
      assert.ok(existsSync(join(K8S_DIR, dir, `${entry}.example`)), `${file}: ${entry}.example`);
      listed.add(join(dir, `${entry}.example`));
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      assert.ok(existsSync(join(K8S_DIR, path)), `${file} lists ${entry}, which does not exist`);
      if (!entry.startsWith('..')) listed.add(path);
      else
        assert.ok(
          existsSync(join(K8S_DIR, path, 'kustomization.yaml')),
          `${file}: ${entry} is a kustomization`,
        );
    }
  }
  const unlisted = files.filter((f) => !f.endsWith('kustomization.yaml') && !listed.has(f));
  assert.deepEqual(unlisted, [], 'files no kustomization lists');
  assert.deepEqual(
    docs.filter((d) => isKustomization(d.object)).map((d) => d.file),
    [
      'base/kustomization.yaml',
      'overlays/external-secret/kustomization.yaml',
      'overlays/prometheus-operator/kustomization.yaml',
      'overlays/secret-file/kustomization.yaml',
    ],
  );
});

test('Service, PDB, HPA, NetworkPolicy and ServiceMonitor point at the serving pods', () => {
  const podLabels = deployment.spec.template.metadata.labels;
  const trainerLabels = cronJob.spec.jobTemplate.spec.template.metadata.labels;
  assert.ok(selects(deployment.spec.selector.matchLabels, podLabels), 'Deployment selects its own pods');
  assert.ok(selects(service.spec.selector, podLabels), 'Service selects the pods');
  assert.ok(!selects(service.spec.selector, trainerLabels), 'Service does not select the trainer');

  const ports = new Map<string, number>(
    server.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
  );
  const containerPorts = new Set(ports.values());
  for (const port of service.spec.ports) {
    const target = typeof port.targetPort === 'string' ? ports.get(port.targetPort) : port.targetPort;
    assert.ok(
      target !== undefined && containerPorts.has(target),
      `Service port ${port.name} → a container port`,
    );
  }

  const pdb = one('PodDisruptionBudget');
  assert.ok(selects(pdb.spec.selector.matchLabels, podLabels), 'PDB selects the pods');
  assert.ok(!selects(pdb.spec.selector.matchLabels, trainerLabels), 'PDB leaves the trainer out');

  const hpa = one('HorizontalPodAutoscaler');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'chexpo' });
  assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);

  const serverPolicy = one('NetworkPolicy', 'chexpo-server');
  assert.ok(selects(serverPolicy.spec.podSelector.matchLabels, podLabels));
  for (const rule of serverPolicy.spec.ingress) {
    for (const p of rule.ports)
      assert.ok(ports.has(p.port) || containerPorts.has(p.port), `ingress port ${p.port}`);
  }
  const trainerPolicy = one('NetworkPolicy', 'chexpo-trainer');
  assert.ok(selects(trainerPolicy.spec.podSelector.matchLabels, trainerLabels));
  assert.ok(trainerPolicy.spec.policyTypes.includes('Ingress') && !trainerPolicy.spec.ingress, 'no ingress');

  const monitor = one('ServiceMonitor');
  assert.ok(
    selects(monitor.spec.selector.matchLabels, service.metadata.labels),
    'ServiceMonitor selects the Service',
  );
  const servicePortNames = service.spec.ports.map((p: { name: string }) => p.name);
  for (const endpoint of monitor.spec.endpoints) assert.ok(servicePortNames.includes(endpoint.port));
});

test('probe and scrape paths are routes the app answers, on the port the server listens on', async (t) => {
  const env = { ...configMap.data, CHEXPO_API_KEYS: VALID_KEYS, NODE_ENV: 'production' };
  const { config } = loadConfig(env);
  assert.equal(server.ports.find((p: { name: string }) => p.name === 'http').containerPort, config.port);
  const annotations = deployment.spec.template.metadata.annotations;
  assert.equal(Number(annotations['prometheus.io/port']), config.port);

  const app = await buildApp({ config });
  t.after(() => app.close());
  const expect: Record<string, number[]> = {
    [server.livenessProbe.httpGet.path]: [200],
    [server.startupProbe.httpGet.path]: [200],
    // No model attached here: the route exists and answers 503 MODEL_NOT_READY.
    [server.readinessProbe.httpGet.path]: [200, 503],
    [annotations['prometheus.io/path']]: [200],
    [one('ServiceMonitor').spec.endpoints[0].path]: [200],
  };
  assert.deepEqual(Object.keys(expect).sort(), ['/metrics', '/v2/health/live', '/v2/health/ready']);
  for (const [path, statuses] of Object.entries(expect)) {
    const response = await app.inject({ method: 'GET', url: path });
    assert.ok(statuses.includes(response.statusCode), `${path} answered ${response.statusCode}`);
  }
  assert.match(
    (await app.inject({ method: 'GET', url: server.readinessProbe.httpGet.path })).json().error,
    /^MODEL_NOT_READY: /,
  );
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    assert.equal(server[probe].httpGet.port, 'http', `${probe} uses the named container port`);
  }
});

test('env: every variable is in the config schema, and the ConfigMap loads cleanly in production', () => {
  const names = [
    ...Object.keys(configMap.data ?? {}),
    ...externalSecret.spec.data.map((d: { secretKey: string }) => d.secretKey),
    ...[...podSpec.containers, ...podSpec.initContainers, ...trainerPod.containers].flatMap(
      (c: { env?: { name: string }[] }) => (c.env ?? []).map((e) => e.name),
    ),
  ].filter((n) => n.startsWith('CHEXPO_'));
  assert.deepEqual(
    names.filter((n) => !SCHEMA_VARIABLES.has(n)),
    [],
  );
  const { warnings, config } = loadConfig({
    ...configMap.data,
    CHEXPO_API_KEYS: VALID_KEYS,
    NODE_ENV: 'production',
  });
  assert.deepEqual(warnings, []);
  assert.equal(config.host, '0.0.0.0', 'reachable from outside the pod');
  for (const ref of [
    ...server.envFrom,
    ...podSpec.initContainers[0].envFrom,
    ...trainerPod.containers[0].envFrom,
  ]) {
    const name = ref.configMapRef?.name ?? ref.secretRef?.name;
    assert.ok(
      [configMap.metadata.name, externalSecret.spec.target.name].includes(name),
      `envFrom ${name} exists`,
    );
  }
});

test('the key file example is a marked placeholder that a production pod refuses to start with', () => {
  const example = readFileSync(join(K8S_DIR, 'overlays/secret-file/api-keys.env.example'), 'utf8');
  const placeholder = /^CHEXPO_API_KEYS=(.*)$/m.exec(example)?.[1] ?? '';
  assert.match(placeholder, /REPLACE ME/);
  assert.throws(
    () => loadConfig({ ...configMap.data, CHEXPO_API_KEYS: placeholder, NODE_ENV: 'production' }),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.includes('CHEXPO_API_KEYS')),
  );
});

test('registry and store live on ReadWriteMany claims mounted where the config points, in server and trainer', () => {
  const claims = new Map(
    objects
      .filter((o) => o.kind === 'PersistentVolumeClaim')
      .map((o) => [o.metadata.name, o.spec.accessModes]),
  );
  const wanted = { CHEXPO_MODEL_DIR: 'chexpo-registry', CHEXPO_STORE_URI: 'chexpo-store' } as const;
  for (const [variable, claim] of Object.entries(wanted)) {
    assert.deepEqual(claims.get(claim), ['ReadWriteMany'], claim);
    const path = configMap.data?.[variable];
    for (const [where, pod, container] of [
      ['server', podSpec, server],
      ['trainer', trainerPod, trainerPod.containers[0]],
    ]) {
      const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === path);
      assert.ok(mount, `${where} mounts ${variable}=${path}`);
      const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
      assert.equal(volume.persistentVolumeClaim?.claimName, claim, `${where}: ${path} is ${claim}`);
    }
  }
});

test('serving pods: replicas, resources, spread, non-root read-only with a tmp emptyDir, drain budget', () => {
  assert.ok(deployment.spec.replicas >= 2);
  assert.ok(podSpec.topologySpreadConstraints.length > 0);
  for (const [where, pod] of [
    ['server', podSpec],
    ['trainer', trainerPod],
  ]) {
    assert.equal(pod.securityContext.runAsNonRoot, true, where);
    assert.equal(pod.automountServiceAccountToken, false, where);
    for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
      const name = `${where}/${container.name}`;
      assert.equal(container.securityContext.readOnlyRootFilesystem, true, name);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false, name);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL'], name);
      for (const r of ['cpu', 'memory']) {
        assert.ok(container.resources.requests[r] && container.resources.limits[r], `${name} ${r}`);
      }
      const tmp = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
      assert.ok(
        pod.volumes.find((v: { name: string }) => v.name === tmp?.name)?.emptyDir,
        `${name} /tmp emptyDir`,
      );
    }
  }
  // SIGTERM → stop admitting, finish in-flight requests (≤ the request deadline), flush the
  // hard-example queue (src/server/start.ts gives it 10 s); preStop runs first.
  const preStopSeconds = Number(server.lifecycle.preStop.exec.command[1]);
  const drainSeconds = preStopSeconds + Number(configMap.data?.CHEXPO_REQUEST_TIMEOUT_MS) / 1000 + 10;
  assert.ok(podSpec.terminationGracePeriodSeconds > drainSeconds, `grace > drain (${drainSeconds} s)`);
  assert.ok(
    Number(configMap.data?.CHEXPO_WORKERS) <= Number(server.resources.limits.cpu),
    'workers ≤ CPU limit',
  );
});

test('the trainer is a single writer running `chexpo loop run`', () => {
  assert.equal(cronJob.spec.concurrencyPolicy, 'Forbid');
  assert.equal(trainerPod.restartPolicy, 'Never');
  assert.equal(trainerPod.containers.length, 1);
  assert.deepEqual(trainerPod.containers[0].command, ['node', 'bin/chexpo.js', 'loop', 'run']);
  assert.ok(!objects.some((o) => o.kind === 'Deployment' && o.metadata.name.includes('trainer')));
});
