/**
 * A store seeded with the answers a review console shows: flagged hard examples with their answer
 * records, an unflagged report, a choice question, an image-less row; written straight through the
 * store contract (no engine), so the console's tests need neither a model nor a worker thread.
 */
import { PNG } from 'pngjs';
import { Tokenizer } from '../../src/data/tokenizer/index.ts';
import type { RunRecordDoc } from '../../src/loop/record.ts';
import { hashKeyId, hashRequestId } from '../../src/server/hard-example-logger.ts';
import type { ChexpoStore, NewAnswerRecord, NewHardExample } from '../../src/store/index.ts';
import { CLINIC_KEY, keyIdOf } from './helpers.ts';

export const DIM = 8;
export const OWNER = keyIdOf(CLINIC_KEY);
export const hashOf = (requestId: string): string => hashRequestId(OWNER, requestId);

/** A 256² 8-bit grey gradient PNG with a bright disc: something to look at, no metadata. */
export function fixturePng(seed = 1): Uint8Array {
  const size = 256;
  const png = new PNG({ width: size, height: size, colorType: 0, inputColorType: 0, bitDepth: 8 });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const disc = (x - 90 - seed * 10) ** 2 + (y - 140) ** 2 < 40 ** 2 ? 90 : 0;
      png.data[y * size + x] = Math.min(255, 40 + Math.round((x / size) * 120) + disc);
    }
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 }));
}

export interface SeedAnswer {
  requestId: string;
  task: 'closed' | 'choice' | 'open' | 'report';
  question: string;
  answer: string;
  /** One per token of `answer`, or a function of the token index. */
  probs: (i: number) => number;
  risk: number;
  flagged: boolean;
  minutesAgo: number;
  modelVersion?: string;
  warnings?: string[];
  image?: boolean;
}

/** The rows one answer leaves: its answer record, and a hard example when flagged. */
export function rowsOf(seed: SeedAnswer, now = Date.now(), dim = DIM) {
  const tokenizer = Tokenizer.build([seed.answer]);
  const count = tokenizer.encode(seed.answer).ids.length;
  const token_probs = Array.from({ length: count }, (_, i) => seed.probs(i));
  const hash = hashOf(seed.requestId);
  const shared = {
    created_at: now - seed.minutesAgo * 60_000,
    model_version: seed.modelVersion ?? 'v0003',
    task: seed.task,
    question: seed.question,
    answer: seed.answer,
    token_probs,
    min_prob: Math.min(...token_probs),
    mean_logprob: token_probs.reduce((s, p) => s + Math.log(p), 0) / token_probs.length,
    risk: seed.risk,
    embedding: Float32Array.from({ length: dim }, (_, i) => (i === 0 ? 1 : 0)),
    image_sha256: 'b'.repeat(64),
    image: seed.image === false ? null : fixturePng(seed.minutesAgo),
  };
  const record: NewAnswerRecord = {
    ...shared,
    id: `ans-${seed.requestId}`,
    request_id_hash: hash,
    key_hash: hashKeyId(OWNER),
    answer_prob: token_probs[0],
    flagged: seed.flagged,
    input_warnings: (seed.warnings ?? []).join(','),
  };
  const hard: NewHardExample | null = seed.flagged
    ? { ...shared, id: `he-${seed.requestId}`, source: 'live', request_id_hash: hash }
    : null;
  return { record, hard };
}

export const SEEDS: SeedAnswer[] = [
  {
    requestId: 'ris-flagged-effusion',
    task: 'closed',
    question: 'Is there a pleural effusion?',
    answer: 'yes. there is blunting of the left costophrenic angle.',
    probs: (i) => (i === 0 ? 0.41 : 0.9),
    risk: 0.83,
    flagged: true,
    minutesAgo: 5,
    warnings: ['lateral_view'],
  },
  {
    requestId: 'ris-flagged-side',
    task: 'choice',
    question: 'Which side is affected by the pleural effusion: left or right?',
    answer: 'right. the right costophrenic angle is blunted.',
    probs: (i) => (i === 0 ? 0.55 : 0.8),
    risk: 0.91,
    flagged: true,
    minutesAgo: 30,
    modelVersion: 'v0002',
  },
  {
    requestId: 'ris-report',
    task: 'report',
    question: 'What are the findings and impression?',
    answer:
      'findings: there is a small left pleural effusion. heart size is normal. no pneumothorax. impression: small left pleural effusion.',
    probs: (i) => (i % 7 === 3 ? 0.35 : 0.95),
    risk: 0.32,
    flagged: false,
    minutesAgo: 12,
  },
  {
    requestId: 'ris-no-image',
    task: 'open',
    question: 'How severe is the pleural effusion?',
    answer: 'moderate. the effusion reaches the mid zone.',
    probs: () => 0.6,
    risk: 0.7,
    flagged: true,
    minutesAgo: 50,
    image: false,
  },
];

/** Writes every seed's rows into the store. */
export async function seedStore(store: ChexpoStore, seeds = SEEDS, now = Date.now()): Promise<void> {
  const rows = seeds.map((s) => rowsOf(s, now, store.embeddingDim));
  await store.addAnswers(rows.map((r) => r.record));
  await store.addHardExamples(rows.flatMap((r) => (r.hard ? [r.hard] : [])));
}

/** A promoted round (v0002 → v0003) and a rejected one, with gate evidence, as the loop records them. */
export async function seedRuns(store: ChexpoStore, now = Date.now()): Promise<void> {
  const doc = (
    id: string,
    status: 'promoted' | 'rejected',
    hoursAgo: number,
    promote: boolean,
  ): RunRecordDoc => ({
    schema: 'chexpo.run/1',
    id,
    trigger: status === 'promoted' ? 'schedule' : 'hard_examples',
    status,
    started_at: now - hoursAgo * 3_600_000,
    finished_at: now - hoursAgo * 3_600_000 + 40 * 60_000,
    base_version: 'v0002',
    candidate_version: status === 'promoted' ? 'v0003' : null,
    config: {},
    counts: {
      scored: 3000,
      hard: 412,
      live_seeds: 9,
      expanded: 388,
      selected: 800,
      pairs: 1600,
      pairs_by_kind: {
        negation: 420,
        laterality: 310,
        severity: 260,
        confusable: 240,
        cooccurrence: 190,
        on_policy: 180,
      },
      selected_by_cell: {},
    },
    retrieval_precision: 0.61,
    dpo: {
      steps: 400,
      final_loss: 0.412,
      final_margin: 1.93,
      final_accuracy: 0.87,
      logp_chosen_change: -0.8,
      logp_rejected_change: -4.1,
      minutes: 31.5,
    },
    eval: { split: 'test', samples: 1200, seed: 7, current: 0.554, candidate: promote ? 0.62 : 0.548 },
    gate: {
      promote,
      reasons: promote ? [] : ['primary score not better (0.548 vs 0.554)'],
      checks: [
        {
          name: 'primary',
          metric: 'accuracy',
          passed: promote,
          applicable: true,
          evidence: promote ? '0.554 → 0.620 (+0.066, CI +0.041…+0.090)' : '0.554 → 0.548',
        },
        {
          name: 'hallucination',
          metric: 'hallucination_rate',
          passed: true,
          applicable: true,
          evidence: '0.081 → 0.064 (margin 0.01)',
        },
        {
          name: 'calibration',
          metric: 'ece',
          passed: true,
          applicable: true,
          evidence: '0.052 → 0.047 (margin 0.02)',
        },
      ],
    },
    durations: {},
    error: null,
  });
  for (const [id, status, hoursAgo, promote] of [
    ['run-20261201-0900-a1b2c3', 'promoted', 26, true],
    ['run-20261202-0300-d4e5f6', 'rejected', 8, false],
  ] as const) {
    const record = doc(id, status, hoursAgo, promote);
    await store.putRun({
      id,
      started_at: record.started_at,
      finished_at: record.finished_at,
      status,
      record: JSON.stringify(record),
    });
  }
}
