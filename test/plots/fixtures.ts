/** Small deterministic inputs for every chart (shaped like the real records, no model needed). */
import { FINDING_KEYS } from '../../src/data/types.ts';
import type { GateInput, MetricTable } from '../../src/plots/index.ts';

export const sftInput = {
  steps: Array.from({ length: 400 }, (_, i) => ({
    step: i,
    loss: 2.5 * Math.exp(-i / 80) + 0.2 + 0.15 * Math.sin(i * 1.7),
  })),
  epochs: [
    { step: 199, valNll: 0.45 },
    { step: 399, valNll: 0.3 },
  ],
};

export const dpoSteps = Array.from({ length: 120 }, (_, i) => {
  const t = i / 120;
  const wobble = 0.05 * Math.sin(i * 2.3);
  return {
    step: i,
    loss: Math.LN2 - 0.4 * t + wobble,
    'rewards/chosen': -0.02 * t + wobble / 10,
    'rewards/rejected': -0.12 * t - wobble / 10,
    'rewards/margins': 0.1 * t + wobble / 5,
    'rewards/accuracies': Math.min(1, 0.5 + 0.45 * t + wobble),
  };
});

const bins = (shift: number) =>
  Array.from({ length: 8 }, (_, b) => ({
    lo: b / 8,
    hi: (b + 1) / 8,
    count: 40 + b,
    meanConfidence: (b + 0.5) / 8,
    errorRate: Math.max(0, 0.8 - (b + shift) / 9),
  }));
export const curve = {
  closed: { n: 360, auroc: 0.81, bins: bins(0) },
  open: { n: 340, auroc: 0.7, bins: bins(1.5) },
};
export const choices = {
  closed: { threshold: 0.42, source: 'curve' },
  open: { threshold: 0.3, source: 'default' },
};

export const reliability = {
  reliability: Array.from({ length: 15 }, (_, b) => {
    const count = b < 4 ? 0 : 10 * b;
    const c = (b + 0.5) / 15;
    return {
      lo: b / 15,
      hi: (b + 1) / 15,
      count,
      mean_confidence: count ? c : Number.NaN,
      accuracy: count ? Math.min(1, c * 0.9 + 0.05) : Number.NaN,
    };
  }),
  metrics: { ece: { value: 0.031, lo: 0.02, hi: 0.045 } },
  calibrationTasks: ['closed', 'choice', 'open'],
};

function findingMetrics(base: number): MetricTable {
  const m: Record<string, { value: number | null; lo: number | null; hi: number | null }> = {};
  FINDING_KEYS.forEach((f, i) => {
    const a = Math.min(0.98, base + (i % 4) * 0.04);
    m[`finding_accuracy.${f}`] = { value: a, lo: a - 0.06, hi: Math.min(1, a + 0.05) };
    m[`hallucination.${f}`] = { value: 1 - a - 0.02, lo: 1 - a - 0.06, hi: 1 - a + 0.03 };
    m[`omission.${f}`] =
      i === 3 ? { value: null, lo: null, hi: null } : { value: (1 - a) / 2, lo: 0, hi: 1 - a };
  });
  return m;
}
export const ownImages = findingMetrics(0.82);
export const permutedImages = findingMetrics(0.55);

const metric = (current: number, candidate: number, better: 'higher' | 'lower') => ({
  current,
  candidate,
  diff: candidate - current,
  lo: candidate - current - 0.03,
  hi: candidate - current + 0.03,
  better,
});
export const gateInput: GateInput = {
  comparison: {
    n_cases: 120,
    level: 0.95,
    metrics: {
      primary: metric(0.71, 0.75, 'higher'),
      'hallucination.rate': metric(0.08, 0.07, 'lower'),
      'omission.rate': metric(0.12, 0.15, 'lower'),
      ece: metric(0.03, 0.035, 'lower'),
      'finding_accuracy.nodule': metric(0.8, 0.82, 'higher'),
    },
  },
  decision: {
    promote: false,
    checks: [
      { name: 'primary gain', metric: 'primary', passed: true, applicable: true },
      { name: 'hallucination rate', metric: 'hallucination.rate', passed: true, applicable: true },
      { name: 'omission rate', metric: 'omission.rate', passed: false, applicable: true },
      { name: 'calibration (ECE)', metric: 'ece', passed: true, applicable: true },
      {
        name: 'adversarial yes-ratio',
        metric: 'pope.adversarial_yes_ratio',
        passed: true,
        applicable: false,
      },
      { name: 'accuracy of nodule', metric: 'finding_accuracy.nodule', passed: true, applicable: false },
    ],
  },
  current: {
    record: {
      metrics: {
        primary: { value: 0.71, lo: 0.66, hi: 0.76 },
        'hallucination.rate': { value: 0.08, lo: 0.05, hi: 0.11 },
        'omission.rate': { value: 0.12, lo: 0.09, hi: 0.16 },
        ece: { value: 0.03, lo: 0.02, hi: 0.05 },
      },
    },
  },
  candidate: {
    record: {
      metrics: {
        primary: { value: 0.75, lo: 0.7, hi: 0.8 },
        'hallucination.rate': { value: 0.07, lo: 0.04, hi: 0.1 },
        'omission.rate': { value: 0.15, lo: 0.11, hi: 0.19 },
        ece: { value: 0.035, lo: 0.02, hi: 0.05 },
      },
    },
  },
};
