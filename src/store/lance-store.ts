/**
 * The store on LanceDB: embedded on a local directory, or on object storage (`s3://…`) when
 * several replicas share it. One connection, one long-lived handle per table.
 *
 * Distance: `nearest` ranks by cosine distance d = 1 − a·b / (‖a‖‖b‖). Embeddings are
 * L2-normalised pooled image embeddings, and for unit vectors ‖a − b‖² = 2 − 2 a·b = 2d, so the
 * ranking is the same as by (squared) L2; cosine is chosen because it stays right if a producer
 * forgets to normalise (or fp16 rounding leaves ‖a‖ ≠ 1). No ANN index is created, so the search is
 * exhaustive and exact (fine up to ~10⁵ rows; add an IVF index with distance `cosine` beyond that).
 */
import { existsSync } from 'node:fs';
import { type Connection, connect, type Table } from '@lancedb/lancedb';
import type { Table as ArrowTable } from 'apache-arrow';
import {
  type AnswerRecord,
  type AppendLabelResult,
  type ChexpoStore,
  type CompactionReport,
  type HardExample,
  type HardExampleStatus,
  type ImageTableName,
  type ListAnswersOptions,
  type ListHardExamplesOptions,
  type ListOptions,
  type NearestOptions,
  type Neighbour,
  type NewAnswerRecord,
  type NewHardExample,
  type PoolSample,
  type PreferencePair,
  type RunRecord,
  type RunStatus,
  TABLE_NAMES,
  type TableName,
  type TableRows,
  type TableStats,
  type VectorTableName,
} from './contract.ts';
import { backendCall, StoreError } from './errors.ts';
import { appendLabelEntry, type LabelEntry } from './labels.ts';
import {
  ANSWER_COLUMNS,
  checkVector,
  decodeAnswer,
  decodeHardExample,
  decodePair,
  decodePoolSample,
  decodeRun,
  encodeAnswers,
  encodeHardExamples,
  encodePairs,
  encodePool,
  encodeRun,
  HARD_EXAMPLE_COLUMNS,
} from './rows.ts';
import { assertSchemaMatches, tableSchema } from './schemas.ts';
import { sqlAnd, sqlEpochMs, sqlIn, sqlString } from './sql.ts';

export interface LanceStoreOptions {
  /** A local directory (created when missing) or an object-storage URI such as `s3://bucket/chexpo`. */
  uri: string;
  /** Length of the image embedding vectors (the encoder's pooled width); fixed per store. */
  embeddingDim: number;
  /** Object-storage settings passed to LanceDB (region, endpoint, …); see docs.lancedb.com/storage. */
  storageOptions?: Record<string, string>;
  /**
   * Seconds after which a read checks for commits by other processes (the trainer reads what the
   * server wrote). 0 = check on every read. Default 1.
   */
  readConsistencyIntervalSeconds?: number;
  /** `compact()` removes table versions older than this. Default 10 minutes. */
  keepVersionsMs?: number;
  /**
   * Let `compact()` also delete unreferenced files younger than 7 days. Only safe when no other
   * process writes to the store at the same time (a single replica). Default false.
   */
  cleanupUnverifiedFiles?: boolean;
  /**
   * Open an existing store only (readers such as `chexpo loop export`): a missing local directory or
   * table is STORE_NOT_FOUND and nothing is created. Default false (create what is missing).
   */
  readOnly?: boolean;
}

const DEFAULT_KEEP_VERSIONS_MS = 10 * 60 * 1000;

type Row = Record<string, unknown>;

export class LanceStore implements ChexpoStore {
  readonly embeddingDim: number;
  private readonly connection: Connection;
  private readonly tables: Map<TableName, Table>;
  private readonly keepVersionsMs: number;
  private readonly cleanupUnverifiedFiles: boolean;
  private closed = false;

  private constructor(connection: Connection, tables: Map<TableName, Table>, options: LanceStoreOptions) {
    this.connection = connection;
    this.tables = tables;
    this.embeddingDim = options.embeddingDim;
    this.keepVersionsMs = options.keepVersionsMs ?? DEFAULT_KEEP_VERSIONS_MS;
    this.cleanupUnverifiedFiles = options.cleanupUnverifiedFiles ?? false;
  }

  /** Connects and opens the four tables, creating the missing ones empty with their schemas. */
  static async open(options: LanceStoreOptions): Promise<LanceStore> {
    const dim = options.embeddingDim;
    if (!Number.isInteger(dim) || dim < 1) {
      throw new StoreError('STORE_INVALID_VECTOR', `embeddingDim must be a positive integer, got ${dim}`);
    }
    if (options.readOnly && !options.uri.includes('://') && !existsSync(options.uri)) {
      throw new StoreError('STORE_NOT_FOUND', `no store at ${options.uri}`);
    }
    const connection = await backendCall(`connecting to ${options.uri}`, () =>
      connect(options.uri, {
        storageOptions: options.storageOptions,
        readConsistencyInterval: options.readConsistencyIntervalSeconds ?? 1,
      }),
    );
    const tables = new Map<TableName, Table>();
    try {
      const existing = new Set(await backendCall('listing tables', () => connection.tableNames()));
      const absent = TABLE_NAMES.filter((name) => !existing.has(name));
      if (options.readOnly && absent.length > 0) {
        throw new StoreError('STORE_NOT_FOUND', `${options.uri} has no table ${absent.join(', ')}`);
      }
      for (const name of TABLE_NAMES) {
        const schema = tableSchema(name, dim);
        // existOk makes creation race-safe when several replicas start against a shared store.
        const table = await backendCall(`opening table ${name}`, () =>
          existing.has(name)
            ? connection.openTable(name)
            : connection.createEmptyTable(name, schema, { mode: 'create', existOk: true }),
        );
        tables.set(name, table);
        assertSchemaMatches(
          name,
          schema,
          await backendCall(`reading schema of ${name}`, () => table.schema()),
        );
      }
    } catch (error) {
      for (const table of tables.values()) table.close();
      connection.close();
      throw error;
    }
    return new LanceStore(connection, tables, options);
  }

  private table(name: TableName): Table {
    if (this.closed) throw new StoreError('STORE_CLOSED', `the store is closed (using table ${name})`);
    const table = this.tables.get(name);
    if (!table) throw new StoreError('STORE_INVALID_ROW', `unknown table ${name}`);
    return table;
  }

  private async append(name: TableName, rows: number, encode: () => ArrowTable): Promise<void> {
    if (rows === 0) return;
    const table = this.table(name);
    const data = encode();
    await backendCall(`adding ${rows} rows to ${name}`, () => table.add(data));
  }

  addHardExamples(rows: readonly NewHardExample[]): Promise<void> {
    return this.append('hard_examples', rows.length, () => encodeHardExamples(rows, this.embeddingDim));
  }

  addAnswers(rows: readonly NewAnswerRecord[]): Promise<void> {
    return this.append('answers', rows.length, () => encodeAnswers(rows, this.embeddingDim));
  }

  async findAnswer(
    requestIdHash: string,
    since: number,
  ): Promise<(AnswerRecord & { image: Uint8Array | null }) | null> {
    const where = `request_id_hash = ${sqlString(requestIdHash)} AND created_at >= ${sqlEpochMs(since)}`;
    const rows = (await this.select('answers', where)).map(decodeAnswer);
    rows.sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
    return rows[0] ?? null;
  }

  /** Sorts client-side (no ORDER BY in LanceDB queries), so it reads every matching record. */
  async listAnswers(options: ListAnswersOptions = {}): Promise<AnswerRecord[]> {
    const where = sqlAnd(
      options.since === undefined ? undefined : `created_at >= ${sqlEpochMs(options.since)}`,
      options.flagged === undefined ? undefined : `flagged = ${options.flagged ? 'true' : 'false'}`,
    );
    const rows = (await this.select('answers', where, { columns: ANSWER_COLUMNS })).map((r) => {
      const { image: _image, ...record } = decodeAnswer(r);
      return record;
    });
    rows.sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
    return rows.slice(0, options.limit ?? rows.length);
  }

  async deleteAnswersBefore(before: number): Promise<number> {
    const table = this.table('answers');
    const where = `created_at < ${sqlEpochMs(before)}`;
    const expired = await backendCall('counting expired answers', () => table.countRows(where));
    if (expired === 0) return 0;
    await backendCall('deleting expired answers', () => table.delete(where));
    return expired;
  }

  addPool(rows: readonly PoolSample[]): Promise<void> {
    return this.append('pool', rows.length, () => encodePool(rows, this.embeddingDim));
  }

  addPairs(rows: readonly PreferencePair[]): Promise<void> {
    return this.append('pairs', rows.length, () => encodePairs(rows));
  }

  async putRun(run: RunRecord): Promise<void> {
    const table = this.table('runs');
    const data = encodeRun(run);
    await backendCall(`writing run ${run.id}`, () =>
      table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data),
    );
  }

  /** Rows matching `where` (all columns unless `columns`), in storage order, at most `limit`. */
  private async select(
    name: TableName,
    where?: string,
    options: { columns?: string[]; limit?: number } = {},
  ) {
    const table = this.table(name);
    return backendCall(`reading ${name}`, () => {
      let query = table.query();
      if (where !== undefined) query = query.where(where);
      if (options.columns) query = query.select(options.columns);
      if (options.limit !== undefined) query = query.limit(options.limit);
      return query.toArray() as Promise<Row[]>;
    });
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const rows = await this.select('runs', `id = ${sqlString(id)}`, { limit: 1 });
    return rows.length === 0 ? null : decodeRun(rows[0]);
  }

  async listRuns(options: { status?: RunStatus; limit?: number } = {}): Promise<RunRecord[]> {
    const where = options.status === undefined ? undefined : `status = ${sqlString(options.status)}`;
    const runs = (await this.select('runs', where)).map(decodeRun);
    runs.sort((a, b) => b.started_at - a.started_at || a.id.localeCompare(b.id));
    return runs.slice(0, options.limit ?? runs.length);
  }

  /** Sorts the matching rows client-side (LanceDB queries have no ORDER BY), so it reads them all. */
  async listHardExamples(options: ListHardExamplesOptions = {}): Promise<HardExample[]> {
    const where = sqlAnd(
      options.status === undefined ? undefined : `status = ${sqlString(options.status)}`,
      options.source === undefined ? undefined : `source = ${sqlString(options.source)}`,
      options.since === undefined ? undefined : `created_at >= ${sqlEpochMs(options.since)}`,
    );
    const rows = (await this.select('hard_examples', where, { columns: HARD_EXAMPLE_COLUMNS })).map(
      decodeHardExample,
    );
    rows.sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
    return rows.slice(0, options.limit ?? rows.length);
  }

  async listPool(options: ListOptions = {}): Promise<PoolSample[]> {
    return (await this.select('pool', options.where, { limit: options.limit })).map(decodePoolSample);
  }

  async listPairs(options: ListOptions = {}): Promise<PreferencePair[]> {
    return (await this.select('pairs', options.where, { limit: options.limit })).map(decodePair);
  }

  async hardExampleIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let at = 0; at < ids.length; at += 500) {
      const chunk = ids.slice(at, at + 500);
      for (const row of await this.select('hard_examples', sqlIn('id', chunk), { columns: ['id'] })) {
        found.add(row.id as string);
      }
    }
    return found;
  }

  async getImages(
    ids: readonly string[],
    table: ImageTableName = 'hard_examples',
  ): Promise<Map<string, Uint8Array>> {
    const images = new Map<string, Uint8Array>();
    if (ids.length === 0) return images;
    const where = `${sqlIn('id', ids)} AND image IS NOT NULL`;
    for (const row of await this.select(table, where, { columns: ['id', 'image'] })) {
      images.set(row.id as string, Uint8Array.from(row.image as Uint8Array));
    }
    return images;
  }

  async imageIds(table: ImageTableName, ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (ids.length === 0) return found;
    for (const row of await this.select(table, `${sqlIn('id', ids)} AND image IS NOT NULL`, {
      columns: ['id'],
    })) {
      found.add(row.id as string);
    }
    return found;
  }

  async setLabel(requestIdHash: string, label: string): Promise<number> {
    const table = this.table('hard_examples');
    const result = await backendCall('labelling a hard example', () =>
      table.update({
        where: `request_id_hash = ${sqlString(requestIdHash)}`,
        valuesSql: { label: sqlString(label), status: sqlString('labelled') },
      }),
    );
    return result.rowsUpdated;
  }

  async appendLabel(requestIdHash: string, entry: LabelEntry): Promise<AppendLabelResult> {
    const table = this.table('hard_examples');
    const result: AppendLabelResult = { updated: 0, full: 0 };
    const readLabels = async (where: string) =>
      (await this.select('hard_examples', where, { columns: ['id', 'label'] })).map((row) => ({
        id: row.id as string,
        label: (row.label as string | null) ?? null,
      }));
    for (let { id, label } of await readLabels(`request_id_hash = ${sqlString(requestIdHash)}`)) {
      // Compare-and-swap on the label read: a concurrent append makes the update miss, then retry.
      for (let attempt = 0; ; attempt++) {
        const next = appendLabelEntry(label, entry);
        if (next === null) {
          result.full += 1;
          break;
        }
        const unchanged = label === null ? 'label IS NULL' : `label = ${sqlString(label)}`;
        const { rowsUpdated } = await backendCall('labelling a hard example', () =>
          table.update({
            where: `id = ${sqlString(id)} AND ${unchanged}`,
            valuesSql: { label: sqlString(next), status: sqlString('labelled') },
          }),
        );
        if (rowsUpdated > 0) {
          result.updated += 1;
          break;
        }
        const [current] = await readLabels(`id = ${sqlString(id)}`);
        if (!current || attempt >= 8) {
          throw new StoreError('STORE_BACKEND_FAILED', 'labelling a hard example kept conflicting');
        }
        ({ id, label } = current);
      }
    }
    return result;
  }

  async setStatus(ids: readonly string[], status: HardExampleStatus): Promise<number> {
    if (ids.length === 0) return 0;
    const table = this.table('hard_examples');
    const result = await backendCall(`setting status ${status}`, () =>
      table.update({ where: sqlIn('id', ids), valuesSql: { status: sqlString(status) } }),
    );
    return result.rowsUpdated;
  }

  async nearest<T extends VectorTableName>(
    name: T,
    vector: Float32Array,
    options: NearestOptions,
  ): Promise<Neighbour<TableRows[T]>[]> {
    checkVector(vector, this.embeddingDim, 'query vector');
    if (!Number.isInteger(options.k) || options.k < 1) {
      throw new StoreError('STORE_INVALID_ROW', `k must be a positive integer, got ${options.k}`);
    }
    const table = this.table(name);
    const columns =
      name === 'hard_examples'
        ? HARD_EXAMPLE_COLUMNS
        : tableSchema(name, this.embeddingDim).fields.map((f) => f.name);
    const rows = await backendCall(`searching ${name}`, () => {
      let query = table.vectorSearch(vector).column('embedding').distanceType('cosine').limit(options.k);
      if (options.where !== undefined) query = query.where(options.where);
      return query.select([...columns, '_distance']).toArray() as Promise<Row[]>;
    });
    const decode = (name === 'hard_examples' ? decodeHardExample : decodePoolSample) as (
      r: Row,
    ) => TableRows[T];
    return rows.map((r) => ({ row: decode(r), distance: Number(r._distance) }));
  }

  async count(name: TableName, where?: string): Promise<number> {
    const table = this.table(name);
    return backendCall(`counting ${name}`, () => table.countRows(where));
  }

  async stats(name: TableName): Promise<TableStats> {
    const table = this.table(name);
    const [stats, version] = await backendCall(`reading stats of ${name}`, () =>
      Promise.all([table.stats(), table.version()]),
    );
    return {
      table: name,
      rows: stats.numRows,
      fragments: stats.fragmentStats.numFragments,
      smallFragments: stats.fragmentStats.numSmallFragments,
      version,
    };
  }

  async compact(): Promise<CompactionReport[]> {
    const reports: CompactionReport[] = [];
    for (const name of TABLE_NAMES) {
      const table = this.table(name);
      const stats = await backendCall(`compacting ${name}`, () =>
        table.optimize({
          cleanupOlderThan: new Date(Date.now() - this.keepVersionsMs),
          deleteUnverified: this.cleanupUnverifiedFiles,
        }),
      );
      reports.push({
        table: name,
        fragmentsRemoved: stats.compaction.fragmentsRemoved,
        fragmentsAdded: stats.compaction.fragmentsAdded,
        oldVersionsRemoved: stats.prune.oldVersionsRemoved,
        bytesRemoved: stats.prune.bytesRemoved,
      });
    }
    return reports;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const table of this.tables.values()) table.close();
    this.connection.close();
  }
}
