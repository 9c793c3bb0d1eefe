import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  defaultPhantomConfig,
  expectedConditional,
  expectedPrevalence,
  isSubtle,
  type PhantomConfig,
  sampleCase,
  validateConfig,
} from '../../../src/data/phantom/index.ts';
import { FINDING_KEYS, type FindingKey, type PhantomCase } from '../../../src/data/types.ts';

const N = 2000;
const cases: PhantomCase[] = Array.from({ length: N }, (_, i) => sampleCase(10_000 + i));
const has = (c: PhantomCase, k: FindingKey) => c.findings.some((f) => f.name === k && f.present);

test('same seed gives the same case; every finding key is labelled exactly once', () => {
  assert.deepEqual(sampleCase(42), sampleCase(42));
  assert.notDeepEqual(sampleCase(42), sampleCase(43));
  const c = sampleCase(42);
  assert.deepEqual(
    c.findings.map((f) => f.name),
    [...FINDING_KEYS],
  );
  assert.equal(c.id, 'cxr-42');
  assert.match(c.patient_id, /^P[0-9a-f]{8}$/);
});

test('attributes follow the label schema', () => {
  for (const c of cases) {
    const cardiomegaly = has(c, 'cardiomegaly');
    assert.ok(cardiomegaly ? c.anatomy.ctr_pa > 0.5 : c.anatomy.ctr_pa >= 0.38 && c.anatomy.ctr_pa <= 0.49);
    // Drawn CTR = PA-equivalent CTR × AP magnification.
    assert.ok(Math.abs(c.ctr - c.anatomy.ctr_pa * c.anatomy.heart_magnification) < 1e-9);
    if (c.view === 'AP')
      assert.ok(c.anatomy.heart_magnification >= 1.1 && c.anatomy.heart_magnification <= 1.15);
    for (const f of c.findings.filter((g) => g.present)) {
      if (f.name === 'nodule') assert.ok(f.size_mm! >= 5 && f.size_mm! <= 29, `${f.size_mm}`);
      if (f.name === 'mass') assert.ok(f.size_mm! >= 30 && f.size_mm! <= 70, `${f.size_mm}`);
      if (f.name === 'edema') assert.equal(f.side, 'bilateral');
      if (f.name === 'pneumothorax') assert.ok(f.side !== 'bilateral' && f.zone === 'upper' && f.severity);
      if (f.name === 'endotracheal_tube' || f.name === 'central_line') assert.ok(f.tip);
    }
  }
});

test('label prevalence matches the configured marginals within 4 standard errors', () => {
  const expected = expectedPrevalence(defaultPhantomConfig);
  for (const key of FINDING_KEYS) {
    const p = expected[key];
    const observed = cases.filter((c) => has(c, key)).length / N;
    const se = Math.sqrt((p * (1 - p)) / N);
    assert.ok(
      Math.abs(observed - p) < 4 * se,
      `${key}: observed ${observed.toFixed(3)}, expected ${p.toFixed(3)}`,
    );
  }
  // Long tail: devices and common findings well above the rare ones.
  assert.ok(expected.pleural_effusion > 0.15 && expected.central_line > 0.15);
  for (const rare of ['pneumothorax', 'mass', 'rib_fracture'] as const) assert.ok(expected[rare] < 0.05);
});

test('co-occurrence: effusion is commoner with cardiomegaly, as configured', () => {
  const withC = cases.filter((c) => has(c, 'cardiomegaly'));
  const without = cases.filter((c) => !has(c, 'cardiomegaly'));
  const pWith = withC.filter((c) => has(c, 'pleural_effusion')).length / withC.length;
  const pWithout = without.filter((c) => has(c, 'pleural_effusion')).length / without.length;
  const eWith = expectedConditional(defaultPhantomConfig, 'pleural_effusion', 'cardiomegaly', true);
  const eWithout = expectedConditional(defaultPhantomConfig, 'pleural_effusion', 'cardiomegaly', false);
  assert.ok(pWith > pWithout + 0.1, `${pWith} vs ${pWithout}`);
  assert.ok(Math.abs(pWith - eWith) < 4 * Math.sqrt((eWith * (1 - eWith)) / withC.length));
  assert.ok(Math.abs(pWithout - eWithout) < 4 * Math.sqrt((eWithout * (1 - eWithout)) / without.length));
  // Edema makes effusions mostly bilateral.
  const edemaEffusions = cases.filter((c) => has(c, 'edema') && has(c, 'pleural_effusion'));
  const bilateral = edemaEffusions.filter(
    (c) => c.findings.find((f) => f.name === 'pleural_effusion')!.side === 'bilateral',
  );
  assert.ok(bilateral.length / edemaEffusions.length > 0.6);
});

test('subtle presentations exist: small effusions, small pneumothoraces, faint small nodules', () => {
  for (const key of ['pleural_effusion', 'pneumothorax', 'nodule'] as const) {
    const subtle = cases.filter((c) => isSubtle(c.findings.find((f) => f.name === key)!));
    assert.ok(subtle.length > 0, key);
  }
});

test('a prevalence change moves the sample, and an invalid config is a coded error', () => {
  const config: PhantomConfig = {
    ...defaultPhantomConfig,
    prevalence: { ...defaultPhantomConfig.prevalence, mass: 0.5 },
  };
  const masses = Array.from({ length: 400 }, (_, i) => sampleCase(i, config)).filter((c) => has(c, 'mass'));
  assert.ok(masses.length > 160 && masses.length < 240, `${masses.length}`);
  const backwards = {
    ...defaultPhantomConfig,
    boosts: [{ given: 'edema', boosted: 'cardiomegaly', factor: 2 }],
  };
  assert.throws(() => validateConfig(backwards as PhantomConfig), {
    code: 'CHEXPO_ERR_PHANTOM_CONFIG_BOOST',
  });
  assert.throws(() => expectedConditional(defaultPhantomConfig, 'mass', 'nodule', true), {
    code: 'CHEXPO_ERR_PHANTOM_CONFIG_NOT_DRIVER',
  });
});
