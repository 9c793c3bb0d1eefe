/**
 * deploy/k8s as files (every YAML document, by file) and as what a real kustomize builds from each
 * overlay, plus the kubernetes-models class for each kind.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { CronJob } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ConfigMap,
  Namespace,
  PersistentVolumeClaim,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

export const K8S_DIR = join(import.meta.dirname, '..', '..', 'deploy', 'k8s');

/** Every directory a user may `kubectl apply -k` (the base alone is not deployable: no keys). */
export const OVERLAYS = ['overlays/secret-file', 'overlays/external-secret', 'overlays/prometheus-operator'];

/** The keys the builds put in overlays/secret-file/api-keys.env (the file users create). */
export const TEST_KEYS = 'k8s-test-key-0123456789:answer,feedback;k8s-test-admin-0123456:admin';

const run = promisify(execFile);

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field in the tests
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface LoadedDocument {
  /** Path relative to deploy/k8s. */
  file: string;
  object: K8sObject;
}

/** apiVersion/kind → the model whose validate() checks it against the Kubernetes OpenAPI schema. */
export const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'batch/v1/CronJob': CronJob,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

export async function listFiles(dir = K8S_DIR): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(relative(K8S_DIR, path));
  }
  return out.sort();
}

/** Every document of every YAML file; YAML syntax errors throw with the file name. */
export async function loadDocuments(): Promise<LoadedDocument[]> {
  const docs: LoadedDocument[] = [];
  for (const file of (await listFiles()).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(await readFile(join(K8S_DIR, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = doc.toJS() as K8sObject | null;
      if (object) docs.push({ file, object });
    }
  }
  return docs;
}

export function isKustomization(object: K8sObject): boolean {
  return object.apiVersion.startsWith('kustomize.config.k8s.io/');
}

/** True when every selector pair is among the labels (matchLabels semantics). */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> = {},
): boolean {
  const pairs = Object.entries(selector ?? {});
  return pairs.length > 0 && pairs.every(([k, v]) => labels[k] === v);
}

/** `kubectl kustomize`, or a standalone `kustomize build`, whichever is installed. */
async function kustomize(dir: string): Promise<string> {
  const attempts: [string, string[]][] = [
    ['kubectl', ['kustomize', dir]],
    ['kustomize', ['build', dir]],
  ];
  const missing: string[] = [];
  for (const [command, args] of attempts) {
    try {
      return (await run(command, args, { maxBuffer: 16 << 20 })).stdout;
    } catch (thrown) {
      const error = thrown as NodeJS.ErrnoException & { stderr?: string };
      if (error.code !== 'ENOENT') throw new Error(`${command} ${args.join(' ')} failed:\n${error.stderr}`);
      missing.push(command);
    }
  }
  throw new Error(
    `neither ${missing.join(' nor ')} is installed: apt-get install -y kubectl (.ci/run does this in CI)`,
  );
}

/**
 * What kustomize builds from each of `dirs` (relative to deploy/k8s), on a copy of deploy/k8s whose
 * secret-file overlay has an api-keys.env holding TEST_KEYS (users write theirs; it is never committed).
 */
export async function buildOverlays(dirs: readonly string[]): Promise<Map<string, K8sObject[]>> {
  const copy = await mkdtemp(join(tmpdir(), 'chexpo-k8s-'));
  try {
    await cp(K8S_DIR, copy, { recursive: true });
    await writeFile(join(copy, 'overlays/secret-file/api-keys.env'), `CHEXPO_API_KEYS=${TEST_KEYS}\n`);
    const built = new Map<string, K8sObject[]>();
    for (const dir of dirs) {
      const objects = parseAllDocuments(await kustomize(join(copy, dir))).map((d) => d.toJS() as K8sObject);
      built.set(
        dir,
        objects.filter((o) => o !== null),
      );
    }
    return built;
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}
