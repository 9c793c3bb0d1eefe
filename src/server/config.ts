/**
 * The server's configuration: environment variables, validated against schemas/config.json (types,
 * ranges, defaults), then shaped into one typed object. Invalid settings fail fast, all listed at once.
 *
 * Auth default: on. With no CHEXPO_API_KEYS and CHEXPO_AUTH_DISABLED unset, the server still starts
 * outside production (so `npm start` works on a fresh clone: health, readiness, metrics and docs
 * answer) but refuses every /v1 request with 401, with a warning saying how to proceed. In production
 * (NODE_ENV=production) that combination is a configuration error.
 */

import { Ajv } from 'ajv';
import { DEFAULT_INPUT_GATE, type InputGateConfig } from '../data/image/index.ts';
import { defineErrors } from '../errors/define.ts';
import { type ApiKey, parseApiKeys } from './auth.ts';
import { loadSchema } from './schemas.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type ExecutionProvider = 'cpu' | 'cuda';

export interface ServerConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  auth: {
    disabled: boolean;
    /** Digests only; the keys themselves are not kept. */
    keys: ApiKey[];
  };
  model: { dir: string; name: string; executionProvider: ExecutionProvider; workers: number };
  store: {
    uri: string;
    /** Keep the de-identified PNG (decoded pixels, never the original file) with each hard example. */
    images: boolean;
    /** The hard-example crash journal's directory; empty = off. */
    journalDir: string;
    /** How long every answer's minimal record is kept for feedback; 0 = only flagged answers take feedback. */
    answerRetentionHours: number;
  };
  riskThreshold: number;
  /** The input gate (src/data/image/gate.ts); the statistics floors keep their defaults. */
  gate: InputGateConfig;
  /** Append-only JSON-lines audit log (CHEXPO_AUDIT_LOG). */
  auditLogPath: string;
  /** The trainer supervisor (src/server/trainer). */
  loop: {
    enabled: boolean;
    /** 0 = no time schedule. */
    intervalHours: number;
    /** 0 = no hard-example trigger. */
    minHardExamples: number;
    threads: number;
    maxRunMinutes: number;
    workDir: string;
    /** Empty: the loop synthesises its own pool. */
    dataDir: string;
  };
  limits: {
    maxQueue: number;
    requestTimeoutMs: number;
    bodyLimitBytes: number;
    maxImageBytes: number;
    /** Per key; 0 = off. */
    rateLimitMax: number;
    /** Per client address, before authentication; 0 = off. */
    rateLimitAddressMax: number;
    rateLimitWindowMs: number;
    /** 0 = under-pressure check off. */
    maxEventLoopDelayMs: number;
    retryAfterSeconds: number;
    /** Open connections per process; 0 = no cap. */
    maxConnections: number;
  };
}

export class ConfigError extends defineErrors('ConfigError', {
  CONFIG_INVALID: {
    when: '`chexpo serve` refused to start: CHEXPO_* variables or the API key file fail their checks (the message lists each problem; docs/configuration.md).',
  },
}) {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

export interface LoadedConfig {
  config: ServerConfig;
  /** Things an operator should see at start-up (auth off, unknown CHEXPO_* variables). */
  warnings: string[];
}

export const CONFIG_SCHEMA = loadSchema('config.json');
const VARIABLES = Object.keys(CONFIG_SCHEMA.properties ?? {});
const validate = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: true }).compile(
  CONFIG_SCHEMA,
);

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off', '']);

/** Environment strings → values ajv can check; booleans accept the usual spellings. */
function pickVariables(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of VARIABLES) {
    const raw = env[name];
    if (raw === undefined) continue;
    const spec = CONFIG_SCHEMA.properties?.[name] as { type?: string };
    const value = raw.trim();
    if (spec.type === 'boolean' && TRUE_WORDS.has(value.toLowerCase())) picked[name] = true;
    else if (spec.type === 'boolean' && FALSE_WORDS.has(value.toLowerCase())) picked[name] = false;
    else if (value === '' && spec.type !== 'string') continue;
    else picked[name] = value;
  }
  return picked;
}

/** Variables that hold secrets: read once by loadConfig, then removed from the environment. */
export const SECRET_VARIABLES = ['CHEXPO_API_KEYS'] as const;

/** Deletes the secret variables from `env` (process.env after start-up); returns the names removed. */
export function scrubSecrets(env: NodeJS.ProcessEnv): string[] {
  const removed = SECRET_VARIABLES.filter((name) => env[name] !== undefined);
  for (const name of removed) delete env[name];
  return removed;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const vars = pickVariables(env);
  const problems: string[] = [];
  const warnings: string[] = [];
  const { keys, problems: keyProblems } = parseApiKeys(env.CHEXPO_API_KEYS ?? '');
  if (!validate(vars)) {
    for (const e of validate.errors ?? []) {
      const name = e.instancePath.replace(/^\//, '') || 'configuration';
      problems.push(`${name} ${e.message ?? e.keyword} (got '${String(env[name] ?? '')}')`);
    }
    throw new ConfigError([...problems, ...keyProblems]);
  }
  // Validated against the schema above, so each variable has its schema type; `never` lets each
  // read below take the type of the field it fills.
  const v = vars as Record<string, never>;
  problems.push(...keyProblems);
  const disabled: boolean = v.CHEXPO_AUTH_DISABLED;
  const production = env.NODE_ENV === 'production';
  if (disabled) {
    warnings.push('AUTH IS DISABLED (CHEXPO_AUTH_DISABLED): every /v1 request is accepted without a key');
  } else if (keys.length === 0 && keyProblems.length === 0) {
    if (production) {
      problems.push(
        'CHEXPO_API_KEYS is empty in production; set keys (or CHEXPO_AUTH_DISABLED=1 behind a gateway)',
      );
    } else {
      warnings.push(
        'no API keys configured: every /v1 request will be refused with 401. ' +
          'Set CHEXPO_API_KEYS="<key>:answer,feedback", or CHEXPO_AUTH_DISABLED=1 for local use.',
      );
    }
  }
  if (v.CHEXPO_MAX_IMAGE_BYTES > v.CHEXPO_BODY_LIMIT_BYTES) {
    warnings.push(
      'CHEXPO_MAX_IMAGE_BYTES exceeds CHEXPO_BODY_LIMIT_BYTES: large JSON (base64) uploads hit the body limit first',
    );
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('CHEXPO_') && !VARIABLES.includes(name)) {
      warnings.push(`unknown variable ${name} is ignored (see docs/configuration.md)`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    warnings,
    config: {
      host: v.CHEXPO_HOST,
      port: v.CHEXPO_PORT,
      logLevel: v.CHEXPO_LOG_LEVEL,
      auth: { disabled, keys },
      model: {
        dir: v.CHEXPO_MODEL_DIR,
        name: v.CHEXPO_MODEL_NAME,
        executionProvider: v.CHEXPO_EXECUTION_PROVIDER,
        workers: v.CHEXPO_WORKERS,
      },
      store: {
        uri: v.CHEXPO_STORE_URI,
        images: v.CHEXPO_STORE_IMAGES,
        journalDir: v.CHEXPO_JOURNAL_DIR,
        answerRetentionHours: v.CHEXPO_ANSWER_RETENTION_HOURS,
      },
      riskThreshold: v.CHEXPO_RISK_THRESHOLD,
      gate: {
        ...DEFAULT_INPUT_GATE,
        modalities: (v.CHEXPO_GATE_MODALITIES as string)
          .split(',')
          .map((m) => m.trim().toUpperCase())
          .filter((m) => m.length > 0),
        minSide: v.CHEXPO_GATE_MIN_SIDE_PX,
        maxChroma: v.CHEXPO_GATE_MAX_CHROMA,
      },
      auditLogPath: v.CHEXPO_AUDIT_LOG,
      loop: {
        enabled: v.CHEXPO_LOOP_ENABLED,
        intervalHours: v.CHEXPO_LOOP_INTERVAL_HOURS,
        minHardExamples: v.CHEXPO_LOOP_MIN_HARD_EXAMPLES,
        threads: v.CHEXPO_LOOP_THREADS,
        maxRunMinutes: v.CHEXPO_LOOP_MAX_RUN_MINUTES,
        workDir: v.CHEXPO_LOOP_WORK_DIR,
        dataDir: v.CHEXPO_LOOP_DATA_DIR,
      },
      limits: {
        maxQueue: v.CHEXPO_MAX_QUEUE,
        requestTimeoutMs: v.CHEXPO_REQUEST_TIMEOUT_MS,
        bodyLimitBytes: v.CHEXPO_BODY_LIMIT_BYTES,
        maxImageBytes: v.CHEXPO_MAX_IMAGE_BYTES,
        rateLimitMax: v.CHEXPO_RATE_LIMIT_MAX,
        rateLimitAddressMax: v.CHEXPO_RATE_LIMIT_ADDRESS_MAX,
        rateLimitWindowMs: v.CHEXPO_RATE_LIMIT_WINDOW_MS,
        maxEventLoopDelayMs: v.CHEXPO_MAX_EVENT_LOOP_DELAY_MS,
        retryAfterSeconds: v.CHEXPO_RETRY_AFTER_SECONDS,
        maxConnections: v.CHEXPO_MAX_CONNECTIONS,
      },
    },
  };
}
