import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/server/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

test('defaults come from the schema', () => {
  const { config } = loadConfig({ CHEXPO_AUTH_DISABLED: 'true' });
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 8080);
  assert.equal(config.store.uri, './var/store');
  assert.equal(config.model.executionProvider, 'cpu');
  assert.equal(config.limits.requestTimeoutMs, 30_000);
  assert.equal(config.riskThreshold, 0.5);
});

test('strings are coerced to their schema types', () => {
  const { config } = loadConfig({
    CHEXPO_AUTH_DISABLED: 'yes',
    CHEXPO_PORT: '9001',
    CHEXPO_RISK_THRESHOLD: '0.35',
    CHEXPO_EXECUTION_PROVIDER: 'cuda',
    CHEXPO_WORKERS: '4',
  });
  assert.equal(config.auth.disabled, true);
  assert.equal(config.port, 9001);
  assert.equal(config.riskThreshold, 0.35);
  assert.equal(config.model.executionProvider, 'cuda');
  assert.equal(config.model.workers, 4);
});

test('every invalid setting is reported at once, naming the variable and the value', () => {
  const problems = problemsOf({
    CHEXPO_PORT: 'eighty',
    CHEXPO_RISK_THRESHOLD: '1.5',
    CHEXPO_EXECUTION_PROVIDER: 'tpu',
    CHEXPO_AUTH_DISABLED: 'perhaps',
    CHEXPO_API_KEYS: 'tiny:answer',
  });
  assert.equal(problems.length, 5, problems.join('\n'));
  const text = problems.join('\n');
  for (const needle of [
    'CHEXPO_PORT',
    "'eighty'",
    'CHEXPO_RISK_THRESHOLD',
    'CHEXPO_EXECUTION_PROVIDER',
    'CHEXPO_AUTH_DISABLED',
    'CHEXPO_API_KEYS',
  ]) {
    assert.ok(text.includes(needle), needle);
  }
});

test('production without keys fails fast; unknown CHEXPO_ variables are warned about', () => {
  assert.match(problemsOf({ NODE_ENV: 'production' }).join('\n'), /CHEXPO_API_KEYS is empty in production/);
  const { warnings } = loadConfig({ CHEXPO_AUTH_DISABLED: '1', CHEXPO_PROT: '80' });
  assert.match(warnings.join('\n'), /unknown variable CHEXPO_PROT/);
});
