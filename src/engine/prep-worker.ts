/**
 * Preprocessing worker entry (worker_threads): decodes and preprocesses images so that neither the
 * HTTP thread nor an inference worker spends its time on it (a 256² 16-bit PNG cost ~21 ms in pngjs
 * on the inference thread, stalling every row of the running batch). Stateless: it serves every
 * model version, since the target image size comes with each message.
 */
import { parentPort } from 'node:worker_threads';
import { warmCodecs } from '../data/image/index.ts';
import { prepareImage } from './prepare.ts';
import { type MainToPrep, now, type PrepToMain, toWireError } from './protocol.ts';

if (!parentPort) throw new Error('engine/prep-worker.ts must run as a worker thread');
const port = parentPort;
const post = (message: PrepToMain, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

port.on('message', async (message: MainToPrep) => {
  const started = now();
  try {
    const image = await prepareImage(message.image, message.imageSize, message.keepPng, message.gate);
    // The input owns its buffer (toModelInput allocates it): move it instead of copying.
    const { input } = image;
    const owned = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength;
    const transfer = owned ? [input.buffer as ArrayBuffer] : [];
    post({ type: 'prepared', id: message.id, image, ms: now() - started }, transfer);
  } catch (error) {
    post({ type: 'failed', id: message.id, error: toWireError(error) });
  }
});
// Instantiate the WASM codecs (JPEG-LS, JPEG 2000, HTJ2K, libjpeg-turbo) before taking requests.
warmCodecs();
post({ type: 'ready' });
