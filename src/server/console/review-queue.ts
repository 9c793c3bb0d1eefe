/**
 * The review console's queue: flagged and recent answers read from the store (the `answers` records
 * of the retention window and the live `hard_examples`), merged by request-id hash, filtered,
 * sorted and paged. Each item carries what a reviewer needs to judge it: the answer split into the
 * generated tokens with their probabilities, the spans with their confidences, the risk and what
 * raised it, whether an image is stored, and the correction form of its task.
 *
 * LanceDB has no ORDER BY, so every listing reads the window's rows (without images) and sorts here;
 * fine for the embedded store's scale (thousands of rows), the cost noted in docs/console.md.
 */
import { Tokenizer } from '../../data/tokenizer/index.ts';
import { answerConfidence } from '../../inference/confidence.ts';
import {
  type AnswerRecord,
  type ChexpoStore,
  type HardExample,
  type ImageTableName,
  labelEntries,
} from '../../store/index.ts';
import { type CorrectionForm, correctionForm, optionsOf } from './corrections.ts';

/** A span below this confidence is named among what raised the risk. */
export const LOW_SPAN_CONFIDENCE = 0.5;

export const QUEUE_VIEWS = ['flagged', 'all'] as const;
export const QUEUE_SORTS = ['newest', 'risk'] as const;

export interface QueueQuery {
  /** `flagged`: answers logged as hard examples; `all`: every answer kept for the retention window too. */
  view: (typeof QUEUE_VIEWS)[number];
  sort: (typeof QUEUE_SORTS)[number];
  task?: string;
  /** Only items whose risk is at least this. */
  min_risk?: number;
  /** Only items with this input-gate warning code. */
  warning?: string;
  model_version?: string;
  /** 1-based. */
  page: number;
  page_size: number;
}

export interface QueueToken {
  /** The token's text as it appears in the answer, leading space included. */
  text: string;
  prob: number;
}

export interface QueueSpan {
  kind: string;
  text: string;
  confidence: number;
  finding?: string;
}

export interface QueueItem {
  /** The request-id hash the store keeps: the item's id for images and corrections. */
  item: string;
  created_at: string;
  model_version: string;
  task: string;
  question: string;
  answer: string;
  /** Null when the stored probabilities cannot be aligned with the answer's tokens. */
  tokens: QueueToken[] | null;
  spans: QueueSpan[];
  risk: number;
  flagged: boolean;
  min_prob: number;
  mean_logprob: number;
  raised_by: {
    input_warnings: string[];
    /** Spans whose confidence is below LOW_SPAN_CONFIDENCE. */
    low_confidence_spans: string[];
    /** The OOD score is folded into the risk at answer time and not stored with the row. */
    ood_score: null;
  };
  /** Path of the de-identified image, or null when none is stored. */
  image: string | null;
  /** `answer_record`: not flagged and not labelled yet, only kept for the retention window. */
  status: string;
  labels: { count: number; last: { verdict: string; as: string; at: string } | null };
  form: CorrectionForm;
}

export interface QueuePage {
  items: QueueItem[];
  total: number;
  page: number;
  pages: number;
  page_size: number;
  /** Values present in the window, for the filter menus. */
  facets: { tasks: string[]; model_versions: string[]; warnings: string[] };
  /** How far back answer records reach (CHEXPO_ANSWER_RETENTION_HOURS); 0: none are kept. */
  retention_hours: number;
}

export interface ReviewQueueOptions {
  store: () => Promise<ChexpoStore>;
  /** The answers table's retention window in ms (0: records are off; only hard examples list). */
  retentionMs: number;
  now?: () => number;
}

/** One answer as the queue merges it: its hard example and/or its answer record. */
interface Entry {
  hash: string;
  hard?: HardExample;
  record?: AnswerRecord;
}

const rowOf = (e: Entry): HardExample | AnswerRecord => (e.hard ?? e.record)!;
const warningsOf = (e: Entry): string[] =>
  (e.record?.input_warnings ?? '').split(',').filter((w) => w.length > 0);
const flaggedOf = (e: Entry): boolean => e.hard !== undefined || e.record?.flagged === true;

/**
 * The tokens of a stored answer. Rows keep the answer text and one probability per generated token,
 * not the ids; the tokenizer is word-level and decodes deterministically, so re-tokenising the text
 * gives the generated tokens — checked by their count and by decoding back to the same text.
 */
function tokensOf(answer: string, probs: readonly number[]) {
  const tokenizer = Tokenizer.build([answer]);
  const ids = tokenizer.encode(answer).ids;
  if (ids.length !== probs.length || tokenizer.decode(ids) !== answer) return null;
  const generated = ids.map((id, i) => ({
    id,
    prob: probs[i],
    logprob: Math.log(Math.max(probs[i], 1e-30)),
    entropy: 0,
  }));
  return { tokenizer, generated, pieces: tokenizer.pieces(ids) };
}

function spansOf(task: string, question: string, answer: string, probs: readonly number[]) {
  const tokens = tokensOf(answer, probs);
  if (!tokens) return { tokens: null, spans: [] as QueueSpan[] };
  const context = {
    task: (task === 'vqa' ? 'vqa' : task) as Parameters<typeof answerConfidence>[2]['task'],
    options: optionsOf(question),
  };
  const confidence = answerConfidence(tokens.generated, tokens.tokenizer, context);
  return {
    tokens: tokens.pieces.map((text, i) => ({ text, prob: probs[i] })),
    spans: confidence.spans.map((s) => ({
      kind: s.kind,
      text: s.text,
      confidence: s.confidence,
      ...(s.finding ? { finding: s.finding } : {}),
    })),
  };
}

function lastLabel(label: string | null): QueueItem['labels'] {
  const entries = labelEntries(label).filter((e) => e.verdict !== undefined);
  const last = entries.at(-1);
  return {
    count: entries.length,
    last: last ? { verdict: String(last.verdict), as: String(last.as), at: String(last.at) } : null,
  };
}

export class ReviewQueue {
  private readonly now: () => number;

  private readonly options: ReviewQueueOptions;

  constructor(options: ReviewQueueOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Every answer the console can show: hard examples of live requests, then answer records. */
  private async entries(view: QueueQuery['view']): Promise<Entry[]> {
    const store = await this.options.store();
    const { retentionMs } = this.options;
    const [hard, records] = await Promise.all([
      store.listHardExamples({ source: 'live' }),
      retentionMs > 0
        ? store.listAnswers({
            since: this.now() - retentionMs,
            ...(view === 'flagged' ? { flagged: true } : {}),
          })
        : Promise.resolve([]),
    ]);
    const byHash = new Map<string, Entry>();
    for (const row of hard) {
      if (!row.request_id_hash) continue;
      const seen = byHash.get(row.request_id_hash);
      // Several rows for one request (a flagged row and one adopted at feedback): the newest.
      if (!seen?.hard || seen.hard.created_at < row.created_at) {
        byHash.set(row.request_id_hash, { hash: row.request_id_hash, hard: row });
      }
    }
    for (const record of records) {
      const entry = byHash.get(record.request_id_hash);
      if (entry) entry.record ??= record;
      else byHash.set(record.request_id_hash, { hash: record.request_id_hash, record });
    }
    return [...byHash.values()];
  }

  async list(query: QueueQuery): Promise<QueuePage> {
    const all = await this.entries(query.view);
    const facets = {
      tasks: [...new Set(all.map((e) => rowOf(e).task))].sort(),
      model_versions: [...new Set(all.map((e) => rowOf(e).model_version))].sort(),
      warnings: [...new Set(all.flatMap(warningsOf))].sort(),
    };
    const matching = all.filter((e) => {
      const row = rowOf(e);
      return (
        (query.task === undefined || row.task === query.task) &&
        (query.model_version === undefined || row.model_version === query.model_version) &&
        (query.min_risk === undefined || row.risk >= query.min_risk) &&
        (query.warning === undefined || warningsOf(e).includes(query.warning))
      );
    });
    const newest = (a: Entry, b: Entry) =>
      rowOf(b).created_at - rowOf(a).created_at || a.hash.localeCompare(b.hash);
    matching.sort(query.sort === 'risk' ? (a, b) => rowOf(b).risk - rowOf(a).risk || newest(a, b) : newest);
    const pages = Math.max(1, Math.ceil(matching.length / query.page_size));
    const page = Math.min(query.page, pages);
    const slice = matching.slice((page - 1) * query.page_size, page * query.page_size);
    return {
      items: await this.describe(slice),
      total: matching.length,
      page,
      pages,
      page_size: query.page_size,
      facets,
      retention_hours: this.options.retentionMs / 3_600_000,
    };
  }

  /** The item with this request-id hash (flagged or within the retention window), or null. */
  async find(hash: string): Promise<QueueItem | null> {
    const entry = (await this.entries('all')).find((e) => e.hash === hash);
    return entry ? ((await this.describe([entry]))[0] ?? null) : null;
  }

  /** The de-identified PNG of a row, or null. */
  async image(table: ImageTableName, id: string): Promise<Uint8Array | null> {
    const store = await this.options.store();
    return (await store.getImages([id], table)).get(id) ?? null;
  }

  private async describe(entries: readonly Entry[]): Promise<QueueItem[]> {
    const store = await this.options.store();
    const [hardImages, recordImages] = await Promise.all([
      store.imageIds(
        'hard_examples',
        entries.flatMap((e) => (e.hard ? [e.hard.id] : [])),
      ),
      store.imageIds(
        'answers',
        entries.flatMap((e) => (e.record ? [e.record.id] : [])),
      ),
    ]);
    return entries.map((e) => {
      const row = rowOf(e);
      const { tokens, spans } = spansOf(row.task, row.question, row.answer, row.token_probs);
      const image =
        e.hard && hardImages.has(e.hard.id)
          ? `images/hard_examples/${e.hard.id}`
          : e.record && recordImages.has(e.record.id)
            ? `images/answers/${e.record.id}`
            : null;
      return {
        item: e.hash,
        created_at: new Date(row.created_at).toISOString(),
        model_version: row.model_version,
        task: row.task,
        question: row.question,
        answer: row.answer,
        tokens,
        spans,
        risk: row.risk,
        flagged: flaggedOf(e),
        min_prob: row.min_prob,
        mean_logprob: row.mean_logprob,
        raised_by: {
          input_warnings: warningsOf(e),
          low_confidence_spans: spans.filter((s) => s.confidence < LOW_SPAN_CONFIDENCE).map((s) => s.text),
          ood_score: null,
        },
        image,
        status: e.hard?.status ?? 'answer_record',
        labels: lastLabel(e.hard?.label ?? null),
        form: correctionForm(row.task, row.question, row.answer),
      };
    });
  }
}
