/**
 * The one way to define coded errors, in the manner of fastify's `createError`: a family names its
 * codes, each with when it arises (docs/errors.md mirrors it, a test keeps them in step) and, for
 * the codes the HTTP API answers with, the status and the message. `code` is stable, the message is
 * for people and never repeats the code (`toString()` and the CLI put it in front).
 */
export interface ErrorSpec {
  /** When it arises and what to do (docs/errors.md). */
  when: string;
  /** HTTP status of a public code (one the API answers with). */
  status?: number;
  /** A public code's message; a thrower may add a detail after it. */
  message?: string;
  /** Whether the answer carries a `Retry-After` header. */
  retryAfter?: boolean;
}

export interface ChexpoErrorOptions {
  cause?: unknown;
  /** Machine-readable context (the failed checks, the offending fields). */
  details?: unknown;
}

export class ChexpoError<Code extends string = string> extends Error {
  readonly code: Code;
  // Declared, not defined: instances without a status or details carry no such property.
  declare readonly statusCode?: number;
  declare readonly details?: unknown;

  constructor(code: Code, message: string, options: ChexpoErrorOptions & { status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.status !== undefined) Object.assign(this, { statusCode: options.status });
    if (options.details !== undefined) Object.assign(this, { details: options.details });
  }

  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

/** A family's code without its shared prefix (`CHEXPO_ERR_EVAL_EMPTY` → `EMPTY`). */
type Unprefixed<Code extends string, Prefix extends string> = Code extends `${Prefix}${infer Rest}`
  ? Rest
  : never;

/**
 * The class of one family of errors, thrown as `new X(code, message, options?)`. With a `prefix`,
 * throwers name codes without it. Families with more fields (a CSV line, a lease) extend the class.
 */
export function defineErrors<const Specs extends Record<string, ErrorSpec>, const Prefix extends string = ''>(
  name: string,
  specs: Specs,
  prefix?: Prefix,
) {
  type Code = Extract<keyof Specs, string>;
  return class extends ChexpoError<Code> {
    static readonly family = name;
    static readonly specs: Readonly<Specs> = specs;

    constructor(code: Unprefixed<Code, Prefix>, message: string, options?: ChexpoErrorOptions) {
      const full = `${prefix ?? ''}${code}` as Code;
      super(full, message, { ...options, status: specs[full].status });
      this.name = name;
    }
  };
}

/** What the docs test reads of each family. */
export interface ErrorFamily {
  readonly family: string;
  readonly specs: Readonly<Record<string, ErrorSpec>>;
}
