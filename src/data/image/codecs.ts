/**
 * Compressed DICOM pixel codecs, from well-kept npm packages:
 *  - JPEG-LS (.80, .81): CharLS (@cornerstonejs/codec-charls, WASM)
 *  - JPEG 2000 (.90, .91): OpenJPEG (@cornerstonejs/codec-openjpeg, WASM)
 *  - HTJ2K (.201–.203): OpenJPH (@cornerstonejs/codec-openjph, WASM)
 *  - JPEG baseline 8-bit (.50, and 8-bit .51): libjpeg-turbo (@cornerstonejs/codec-libjpeg-turbo-8bit, WASM)
 *  - JPEG lossless (.57, .70): @cornerstonejs/jpeg-lossless-decoder-js (plain JS)
 *
 * The emscripten modules are instantiated synchronously from the .wasm file inside node_modules
 * (`instantiateWasm` hook with `new WebAssembly.Module`), once per thread on first use, so decoding
 * stays a synchronous call with no network and no async start-up (~15–20 ms per codec, once).
 * Every decoder call copies its output out of WASM memory and frees its decoder instance.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describeThrown, ImageError } from './errors.ts';

const require = createRequire(import.meta.url);

/** The few WebAssembly globals used here (the project's lib settings do not declare them). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Samples of one decoded frame: interleaved, native-endian typed array, `bitsPerSample` ≤ 16. */
export interface CodecFrame {
  width: number;
  height: number;
  components: number;
  bitsPerSample: number;
  signed: boolean;
  /** Interleaved samples (R,G,B,R,G,B… for colour). */
  samples: Uint8Array | Uint16Array | Int16Array;
}

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): FrameInfo;
  decode(): void;
  delete(): void;
  decodeSubResolution?(level: number): void;
  getInterleaveMode?(): number;
}

type DecoderClass = new () => WasmDecoder;
type Module = Record<string, unknown> & { getExceptionMessage?: (e: number) => string };

const modules = new Map<string, Module>();

/** Instantiates an emscripten MODULARIZE build synchronously from its .wasm in node_modules. */
function loadModule(jsSpecifier: string, wasmSpecifier: string): Module {
  const cached = modules.get(jsSpecifier);
  if (cached) return cached;
  const factory = require(jsSpecifier) as ((m: object) => Promise<unknown>) & {
    default?: (m: object) => Promise<unknown>;
  };
  const wasm = new WA.Module(readFileSync(require.resolve(wasmSpecifier)));
  const moduleArg: Module = {
    // OpenJPEG reports progress on stdout and errors on stderr; the thrown error carries what matters.
    print: () => {},
    printErr: () => {},
    instantiateWasm(imports: object, done: (instance: object, module: object) => void) {
      const instance = new WA.Instance(wasm, imports);
      done(instance, wasm);
      return instance.exports;
    },
  };
  const ready = (factory.default ?? factory)(moduleArg);
  // The runtime has initialised synchronously; the promise only repeats that.
  ready.catch(() => {});
  modules.set(jsSpecifier, moduleArg);
  return moduleArg;
}

function decoderClass(jsSpecifier: string, wasmSpecifier: string, name: string): DecoderClass {
  const mod = loadModule(jsSpecifier, wasmSpecifier);
  const cls = mod[name];
  if (typeof cls !== 'function') throw new Error(`${jsSpecifier} did not provide ${name}`);
  return cls as DecoderClass;
}

/** Loads every WASM codec now (a preprocessing thread does this before it reports ready). */
export function warmCodecs(): void {
  charls();
  openjpeg();
  openjph();
  libjpegTurbo();
}

const charls = (): DecoderClass =>
  decoderClass(
    '@cornerstonejs/codec-charls/decodewasmjs',
    '@cornerstonejs/codec-charls/decodewasm',
    'JpegLSDecoder',
  );
const openjpeg = (): DecoderClass =>
  decoderClass(
    '@cornerstonejs/codec-openjpeg/decodewasmjs',
    '@cornerstonejs/codec-openjpeg/decodewasm',
    'J2KDecoder',
  );
const openjph = (): DecoderClass =>
  decoderClass('@cornerstonejs/codec-openjph/wasmjs', '@cornerstonejs/codec-openjph/wasm', 'HTJ2KDecoder');
const libjpegTurbo = (): DecoderClass =>
  decoderClass(
    '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
    '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm',
    'JPEGDecoder',
  );

function messageOf(thrown: unknown, mod: Module | undefined): string {
  if (typeof thrown === 'number' && mod?.getExceptionMessage) {
    try {
      return mod.getExceptionMessage(thrown);
    } catch {
      return `codec exception ${thrown}`;
    }
  }
  return describeThrown(thrown);
}

function runWasm(
  what: string,
  cls: DecoderClass,
  jsSpecifier: string,
  encoded: Uint8Array,
  decode: (d: WasmDecoder) => void,
): CodecFrame {
  let decoder: WasmDecoder | undefined;
  try {
    decoder = new cls();
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decode(decoder);
    const info = decoder.getFrameInfo();
    if (!(info.width > 0 && info.height > 0 && info.componentCount > 0)) {
      throw new Error('the codestream did not decode to an image');
    }
    const bytes = decoder.getDecodedBuffer();
    const bytesPerSample = info.bitsPerSample > 8 ? 2 : 1;
    const count = info.width * info.height * info.componentCount;
    if (bytes.length < count * bytesPerSample) {
      throw new Error(
        `decoded ${bytes.length} bytes for ${info.width}×${info.height}×${info.componentCount}`,
      );
    }
    const signed = info.isSigned === true;
    let samples: CodecFrame['samples'];
    if (bytesPerSample === 1) samples = bytes.slice(0, count);
    else {
      // Copy out of WASM memory into an aligned buffer (the view may start at an odd address).
      const copy = new Uint8Array(count * 2);
      copy.set(bytes.subarray(0, count * 2));
      samples = signed ? new Int16Array(copy.buffer) : new Uint16Array(copy.buffer);
    }
    return {
      width: info.width,
      height: info.height,
      components: info.componentCount,
      bitsPerSample: info.bitsPerSample,
      signed,
      samples,
    };
  } catch (thrown) {
    if (thrown instanceof ImageError) throw thrown;
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `${what} frame could not be decoded (truncated or corrupt?): ${messageOf(thrown, modules.get(jsSpecifier))}`,
      { cause: thrown },
    );
  } finally {
    try {
      decoder?.delete();
    } catch {
      // A decoder that failed mid-way may already be unusable; its memory goes with the module.
    }
  }
}

export function decodeJpegLs(encoded: Uint8Array): CodecFrame {
  let interleave: number | undefined;
  const frame = runWasm('JPEG-LS', charls(), '@cornerstonejs/codec-charls/decodewasmjs', encoded, (d) => {
    d.decode();
    interleave = d.getInterleaveMode?.();
  });
  // Interleave mode "none" decodes colour plane by plane: make it R,G,B,R,G,B… like the others.
  if (frame.components > 1 && interleave === 0)
    frame.samples = interleavePlanar(frame.samples, frame.components);
  return frame;
}

function interleavePlanar<T extends CodecFrame['samples']>(planes: T, components: number): T {
  const out = new (planes.constructor as new (n: number) => T)(planes.length);
  const count = planes.length / components;
  for (let c = 0; c < components; c++) {
    for (let i = 0; i < count; i++) out[i * components + c] = planes[c * count + i];
  }
  return out;
}

export function decodeJpeg2000(encoded: Uint8Array): CodecFrame {
  return runWasm('JPEG 2000', openjpeg(), '@cornerstonejs/codec-openjpeg/decodewasmjs', encoded, (d) =>
    d.decode(),
  );
}

export function decodeHtj2k(encoded: Uint8Array): CodecFrame {
  return runWasm('HTJ2K', openjph(), '@cornerstonejs/codec-openjph/wasmjs', encoded, (d) =>
    d.decodeSubResolution ? d.decodeSubResolution(0) : d.decode(),
  );
}

/** 8-bit DCT JPEG (baseline or 8-bit extended) through libjpeg-turbo; colour comes back as RGB. */
export function decodeJpeg8(encoded: Uint8Array): CodecFrame {
  return runWasm(
    'JPEG',
    libjpegTurbo(),
    '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
    encoded,
    (d) => d.decode(),
  );
}

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, numBytes: number): Uint8Array | Uint16Array;
  frame: { precision?: number; numComp?: number; dimX?: number; dimY?: number };
  numComp: number;
  xDim: number;
  yDim: number;
  precision?: number;
}

let losslessClass: (new () => LosslessDecoder) | undefined;

/** JPEG lossless (process 14, any predictor; .57 and .70), 2–16 bits, grey or colour. */
export function decodeJpegLossless(encoded: Uint8Array, bytesPerSample: 1 | 2): CodecFrame {
  losslessClass ??= (
    require('@cornerstonejs/jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder }
  ).Decoder;
  try {
    const decoder = new losslessClass();
    // The decoder reads from an ArrayBuffer: give it a copy that starts at offset 0 (a copy even when
    // `encoded` is a Buffer, whose slice() is a view).
    const own = new Uint8Array(encoded);
    const out = decoder.decode(own.buffer, 0, own.length, bytesPerSample);
    const width = decoder.xDim;
    const height = decoder.yDim;
    const components = decoder.numComp;
    const precision = decoder.precision ?? decoder.frame.precision ?? bytesPerSample * 8;
    const count = width * height * components;
    if (!(width > 0 && height > 0) || out.length < count) {
      throw new Error(`decoded ${out.length} samples for ${width}×${height}×${components}`);
    }
    const samples =
      bytesPerSample === 1
        ? new Uint8Array(out.buffer, out.byteOffset, count).slice()
        : new Uint16Array(out.buffer, out.byteOffset, count).slice();
    return { width, height, components, bitsPerSample: precision, signed: false, samples };
  } catch (thrown) {
    throw new ImageError(
      'IMAGE_UNDECODABLE',
      `JPEG lossless frame could not be decoded (truncated or corrupt?): ${describeThrown(thrown)}`,
      { cause: thrown },
    );
  }
}
