import * as ort from 'onnxruntime-node';
import { defineErrors } from '../../errors/define.ts';

/** Stable codes for onnxruntime failures. */
export class OrtError extends defineErrors('OrtError', {
  ORT_CREATE_FAILED: {
    when: 'onnxruntime refused a graph (the message holds its reason): a corrupt model file, or a build without the execution provider asked for.',
  },
  ORT_MISSING_INPUTS: {
    when: 'A run without every input the graph declares (a bug in the caller; the message names them).',
  },
  ORT_RUN_FAILED: {
    when: 'onnxruntime failed a run (wrong input shapes or dtypes; the message lists the inputs given). At a version swap it means the version does not fit the serving code: the swap is refused.',
  },
}) {}
export type OrtErrorCode = OrtError['code'];

export type ExecutionProvider = 'cpu' | 'cuda';

export interface OrtSessionOptions {
  /** Tried in order; default ['cpu']. 'cuda' needs the GPU build of onnxruntime-node. */
  executionProviders?: readonly ExecutionProvider[];
  /** Threads inside one op (0 = ORT's default, one per physical core). */
  intraOpThreads?: number;
  /** Graph optimisation level; default 'all' (fuses Transpose+MatMul, layer norm patterns…). */
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Let idle intra-op threads spin for work (ORT's default). Off by default here: on a shared or
   * oversubscribed machine (serving workers + trainer on a few cores) spinning threads steal the cores
   * other work needs, and a training step measured 2x slower with two spinning threads than with one.
   */
  allowSpinning?: boolean;
  /** ORT's own log threshold: 0 verbose … 3 error (default) … 4 fatal (silences expected failures in tests). */
  logSeverity?: 0 | 1 | 2 | 3 | 4;
}

export type Feeds = Record<string, ort.Tensor>;

/** How one tensor looks in error messages: name: dtype[dims]. */
function describe(name: string, t: ort.Tensor): string {
  return `${name}: ${t.type}[${t.dims.join(', ')}]`;
}

/** The one owner of onnxruntime sessions: create from bytes or a path, run with named feeds. */
export class OrtSession {
  private readonly session: ort.InferenceSession;
  readonly label: string;
  private constructor(session: ort.InferenceSession, label: string) {
    this.session = session;
    this.label = label;
  }

  static async create(model: Uint8Array | string, options: OrtSessionOptions = {}): Promise<OrtSession> {
    const label = typeof model === 'string' ? model : `<${model.byteLength} bytes>`;
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [...(options.executionProviders ?? ['cpu'])],
      graphOptimizationLevel: options.graphOptimization ?? 'all',
      logSeverityLevel: options.logSeverity ?? 3,
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } },
    };
    try {
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      return new OrtSession(session, label);
    } catch (cause) {
      throw new OrtError('ORT_CREATE_FAILED', `${label}: ${(cause as Error).message}`, { cause });
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs with all named inputs; `fetches` limits the outputs computed (default: all). */
  async run(feeds: Feeds, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    const missing = this.session.inputNames.filter((n) => !(n in feeds));
    if (missing.length > 0)
      throw new OrtError('ORT_MISSING_INPUTS', `${this.label}: missing inputs ${missing.join(', ')}`);
    const known = new Set(this.session.inputNames);
    const used: Feeds = {};
    for (const [k, v] of Object.entries(feeds)) if (known.has(k)) used[k] = v;
    try {
      return fetches ? await this.session.run(used, [...fetches]) : await this.session.run(used);
    } catch (cause) {
      const inputs = Object.entries(used)
        .map(([k, v]) => describe(k, v))
        .join('; ');
      throw new OrtError('ORT_RUN_FAILED', `${this.label}: ${(cause as Error).message} — inputs: ${inputs}`, {
        cause,
      });
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** An ORT tensor from a typed array (bool from Uint8Array). */
export function ortTensor(
  dtype: 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8',
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array,
  dims: readonly number[],
): ort.Tensor {
  return new ort.Tensor(dtype, data as never, dims);
}

export { ort };
