/**
 * Inference worker entry (worker_threads). Loads the version named in workerData, warms every graph
 * up with one dummy request, posts `ready`, then serves `answer` / `cancel` messages through its
 * scheduler. Images arrive decoded and preprocessed (prep-worker.ts), so this thread spends its time
 * in ORT; only the prompt is tokenised here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { chooseTokens, type DecodeRow, encodeImages, prefill, step } from '../inference/generate.ts';
import { REPORT_PROMPT } from '../inference/prompt.ts';
import { promptIds } from '../model/vlm/tokens.ts';
import { EngineError } from './errors.ts';
import { preparePrompt } from './prepare.ts';
import { type MainToWorker, now, toWireError, type WorkerInit, type WorkerToMain } from './protocol.ts';
import { loadRuntime, type ModelRuntime } from './runtime.ts';
import { Scheduler } from './scheduler.ts';

if (!parentPort) throw new Error('engine/worker.ts must run as a worker thread');
const port = parentPort;
const init = workerData as WorkerInit;
const post = (message: WorkerToMain): void => port.postMessage(message);

/** One dummy request through encoder, prefill and step: first-run allocations and kernel choice happen here. */
async function warmUp(rt: ModelRuntime): Promise<void> {
  const { config, tokenizer, sessions } = rt;
  const { imageTokens } = await encodeImages(sessions.encoder, config, [
    new Float32Array(config.imageSize ** 2),
  ]);
  const ids = promptIds(tokenizer, REPORT_PROMPT).slice(-Math.max(2, config.maxSeqLen - 2));
  const rows: DecodeRow[] = [{ request: 0, promptLength: ids.length, maxTokens: 2, ids: [], tokens: [] }];
  const batch = await prefill(sessions, config, imageTokens, rows, [ids]);
  rows[0].ids.push(chooseTokens(batch, rt.processors, 0)[0].id);
  await step(sessions, config, batch);
}

async function main(): Promise<void> {
  let rt: ModelRuntime;
  const started = now();
  try {
    rt = await loadRuntime(init);
    await warmUp(rt);
  } catch (error) {
    post({ type: 'load_failed', error: toWireError(error) });
    // Leave by ourselves, between ORT calls: a terminate() from outside can land while onnxruntime is
    // still tearing a session down and abort the process.
    setImmediate(() => process.exit(0));
    return;
  }
  const scheduler = new Scheduler(
    rt,
    init.maxBatch,
    init.defaultMaxTokens,
    {
      done: (id, answer) => post({ type: 'result', id, answer }),
      failed: (id, error) => post({ type: 'failed', id, error: toWireError(error) }),
      batch: (stage, size) => post({ type: 'batch', stage, size }),
    },
    { joinGroup: init.joinGroup ?? 1, joinEverySteps: init.joinEverySteps ?? 0 },
  );
  port.on('message', (message: MainToWorker) => {
    if (message.type === 'cancel') {
      scheduler.cancel(message.id);
      return;
    }
    if (message.type === 'crash') {
      scheduler.atSafePoint(() => process.exit(70));
      return;
    }
    if (message.type === 'pause' || message.type === 'resume') {
      if (message.type === 'pause') scheduler.pause();
      else scheduler.resume();
      return;
    }
    const { request } = message;
    try {
      if (request.image.input.length !== rt.config.imageSize ** 2)
        throw new EngineError('WORKER_FAILED', `the image was prepared for another model input size`);
      scheduler.submit(message.id, request, preparePrompt(rt, request), request.preprocessMs);
    } catch (error) {
      post({ type: 'failed', id: message.id, error: toWireError(error) });
    }
  });
  post({ type: 'ready', warmupMs: now() - started });
}

void main();
