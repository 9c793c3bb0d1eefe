/**
 * Image references → model inputs (and 16-bit PNG bytes for export). Every path ends in the one
 * preprocessing function of training and serving (`toModelInput`); a phantom edit is re-rendered
 * from the case row's seed and anatomy with editCase + renderCase at the data set's render size,
 * and mapped to intensities exactly as decoding its 16-bit PNG does (grayToDecoded), so the edited
 * and the original image differ only where the finding is drawn.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DecodedImage,
  decodeImage,
  encodePng16,
  grayToDecoded,
  toModelInput,
} from '../../data/image/index.ts';
import { defaultPhantomConfig, editCase, type PhantomConfig, renderCase } from '../../data/phantom/index.ts';
import type { GrayImage } from '../../data/types.ts';
import type { DataCase } from '../../inference/offline/index.ts';
import { caseImagePath, readJsonl } from '../../model/train/dataset.ts';
import type { ChexpoStore } from '../../store/contract.ts';
import type { ImageRef } from '../types.ts';
import { isPhantom } from './case-facts.ts';
import { PairsError } from './errors.ts';
import { encodeImageRef } from './image-ref.ts';

export interface ImageResolverOptions {
  /** The data set directory (`chexpo synth` / `chexpo import` layout). */
  dataDir: string;
  /** Model input side (imageSize² values per image). */
  imageSize: number;
  /** Side at which phantoms are rendered; default: the data set manifest's `size`. */
  renderSize?: number;
  /** Phantom configuration for 'add' edits; default: the manifest's, else the default config. */
  phantomConfig?: PhantomConfig;
  /** Source of live hard examples' images (`hard_example` references). */
  store?: Pick<ChexpoStore, 'getImages'>;
  /** Case rows already in memory; otherwise cases/<split>.jsonl are read on first use. */
  cases?: Iterable<DataCase>;
  /** Model inputs kept in memory (least recently used dropped first); default 1024. */
  cacheSize?: number;
}

interface Manifest {
  size?: number;
  phantomConfig?: PhantomConfig | 'default';
}

const SPLITS = ['train', 'validation', 'test'] as const;

export class ImageResolver {
  private readonly options: ImageResolverOptions;
  private cases: Promise<Map<string, DataCase>> | undefined;
  private manifest: Promise<Manifest> | undefined;
  private readonly cache = new Map<string, Promise<Float32Array>>();

  constructor(options: ImageResolverOptions) {
    this.options = options;
    if (options.cases) this.cases = Promise.resolve(new Map([...options.cases].map((c) => [c.id, c])));
  }

  /** Model input (imageSize², normalised as serving does) of one reference; cached. */
  resolve(ref: ImageRef): Promise<Float32Array> {
    const key = encodeImageRef(ref);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const pending = this.decoded(ref).then((img) => toModelInput(img, this.options.imageSize));
    pending.catch(() => this.cache.delete(key));
    this.cache.set(key, pending);
    const limit = this.options.cacheSize ?? 1024;
    while (this.cache.size > limit) this.cache.delete(this.cache.keys().next().value as string);
    return pending;
  }

  /** The reference's image as a lossless 16-bit grey PNG (for export). */
  async png16(ref: ImageRef): Promise<Uint8Array> {
    if (ref.kind === 'phantom_edit') return encodePng16(await this.rendered(ref));
    if (ref.kind === 'case') {
      const row = await this.caseRow(ref.case_id);
      if (row.images.png16) return new Uint8Array(await readFile(caseImagePath(this.options.dataDir, row)));
    }
    return encodePng16(toGray16(await this.decoded(ref)));
  }

  private async decoded(ref: ImageRef): Promise<DecodedImage> {
    if (ref.kind === 'phantom_edit') return grayToDecoded(await this.rendered(ref));
    if (ref.kind === 'case') {
      const row = await this.caseRow(ref.case_id);
      return decodeImage(new Uint8Array(await readFile(caseImagePath(this.options.dataDir, row))));
    }
    const store = this.options.store;
    if (!store) throw new PairsError('PAIRS_UNRESOLVED_IMAGE', `no store to load hard example ${ref.id}`);
    const bytes = (await store.getImages([ref.id])).get(ref.id);
    if (!bytes) throw new PairsError('PAIRS_UNRESOLVED_IMAGE', `hard example ${ref.id} has no stored image`);
    return decodeImage(bytes);
  }

  private async rendered(ref: Extract<ImageRef, { kind: 'phantom_edit' }>): Promise<GrayImage> {
    const row = await this.caseRow(ref.case_id);
    if (!isPhantom(row))
      throw new PairsError('PAIRS_NOT_A_PHANTOM', `case ${ref.case_id} has no seed/anatomy to re-render`);
    const manifest = await this.readManifest();
    const config =
      this.options.phantomConfig ??
      (typeof manifest.phantomConfig === 'object' ? manifest.phantomConfig : defaultPhantomConfig);
    const size = this.options.renderSize ?? manifest.size;
    if (size === undefined)
      throw new PairsError(
        'PAIRS_UNRESOLVED_IMAGE',
        `no render size: pass renderSize or a manifest with size`,
      );
    return renderCase(editCase(row, ref.edit, config), { size });
  }

  private readManifest(): Promise<Manifest> {
    this.manifest ??= (async () => {
      const path = join(this.options.dataDir, 'manifest.json');
      return existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as Manifest) : {};
    })();
    return this.manifest;
  }

  private async caseRow(id: string): Promise<DataCase> {
    this.cases ??= (async () => {
      const cases = new Map<string, DataCase>();
      for (const split of SPLITS) {
        const path = join(this.options.dataDir, 'cases', `${split}.jsonl`);
        if (existsSync(path)) for (const c of await readJsonl<DataCase>(path)) cases.set(c.id, c);
      }
      return cases;
    })();
    const row = (await this.cases).get(id);
    if (!row) throw new PairsError('PAIRS_UNRESOLVED_IMAGE', `unknown case ${id}`);
    return row;
  }
}

/** Display intensities in [0, 1] as a 16-bit GrayImage. */
function toGray16(img: DecodedImage): GrayImage {
  const data = new Uint16Array(img.pixels.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, img.pixels[i])) * 65535);
  return { width: img.width, height: img.height, bitsStored: 16, data };
}
