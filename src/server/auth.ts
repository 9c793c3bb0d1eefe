/**
 * Bearer API keys with scopes. Keys are kept only as SHA-256 digests, and a presented key is
 * compared against every digest with crypto.timingSafeEqual (no early exit), so neither the stored
 * keys nor the time taken reveal how much of a guess was right.
 *
 * CHEXPO_API_KEYS format: entries separated by `;`, each `<key>:<scope>[,<scope>…]`, e.g.
 * `k3y-for-the-ris-0001:answer,feedback;k3y-for-the-rad-0003:review;k3y-for-the-ops-0002:admin`.
 * Scopes are independent: admin implies neither answer nor review. `feedback` labels the key's own
 * answers (/v1/feedback); `review` labels any answer in the console's review queue with the standing
 * `reviewer`, which the loop trains on as a clinician's label, so it is kept apart from `admin`
 * (separation of duties: whoever deploys models does not also write the labels that train them).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from './errors.ts';

export const SCOPES = ['answer', 'feedback', 'review', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const MIN_KEY_LENGTH = 16;
const KEY_PATTERN = /^[A-Za-z0-9._~+/=-]+$/;

export interface ApiKey {
  /** Short non-secret id (first 12 hex digits of the digest): for logs and per-key rate limits. */
  id: string;
  digest: Buffer;
  scopes: ReadonlySet<Scope>;
}

export interface Principal {
  keyId: string;
  scopes: ReadonlySet<Scope>;
}

function digestOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Parses CHEXPO_API_KEYS; returns the keys and a list of problems (empty when valid). */
export function parseApiKeys(spec: string): { keys: ApiKey[]; problems: string[] } {
  const keys: ApiKey[] = [];
  const problems: string[] = [];
  const entries = spec
    .split(';')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  entries.forEach((entry, index) => {
    const where = `CHEXPO_API_KEYS entry ${index + 1}`;
    const colon = entry.lastIndexOf(':');
    if (colon < 0) {
      problems.push(`${where} has no ':<scopes>' part (format: <key>:<scope>[,<scope>…])`);
      return;
    }
    const key = entry.slice(0, colon).trim();
    const scopeNames = entry
      .slice(colon + 1)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (key.length < MIN_KEY_LENGTH || !KEY_PATTERN.test(key)) {
      problems.push(`${where}: a key must be at least ${MIN_KEY_LENGTH} characters of [A-Za-z0-9._~+/=-]`);
      return;
    }
    const unknown = scopeNames.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (scopeNames.length === 0 || unknown.length > 0) {
      problems.push(`${where}: scopes must be among ${SCOPES.join(', ')} (got '${scopeNames.join(',')}')`);
      return;
    }
    const digest = digestOf(key);
    if (keys.some((k) => k.digest.equals(digest))) {
      problems.push(`${where} repeats an earlier key`);
      return;
    }
    keys.push({ id: digest.toString('hex').slice(0, 12), digest, scopes: new Set(scopeNames as Scope[]) });
  });
  return { keys, problems };
}

/** The key matching `presented`, compared in constant time against every configured key. */
export function findKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const digest = digestOf(presented);
  let match: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, digest) && !match) match = key;
  }
  return match;
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Scope a route requires; `any`: any configured key (the review console's sign-in); absent
     * means the route is public (health, metrics, docs).
     */
    scope?: Scope | 'any';
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthOptions {
  disabled: boolean;
  keys: readonly ApiKey[];
}

/** onRequest hook: 401 without a known key, 403 when the key lacks the route's scope. */
export function authHook(options: AuthOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    if (options.disabled) {
      request.principal = { keyId: 'auth-disabled', scopes: new Set(SCOPES) };
      return;
    }
    const token = bearerToken(request.headers.authorization);
    const key = token === undefined ? undefined : findKey(options.keys, token);
    if (!key) {
      reply.header('WWW-Authenticate', 'Bearer realm="chexpo"');
      throw apiError('UNAUTHORIZED');
    }
    request.principal = { keyId: key.id, scopes: key.scopes };
    if (scope !== 'any' && !key.scopes.has(scope)) throw apiError('FORBIDDEN', `needs scope '${scope}'`);
  };
}
