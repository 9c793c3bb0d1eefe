/**
 * While the app drains (close() called with a request in flight), a request that still arrives on an
 * open connection gets the catalogue's coded 503 with Retry-After — not fastify's uncoded body — and
 * the in-flight one finishes 200. Two requests pipelined on one socket make the timing exact.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { buildApp } from '../../src/server/app.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import type { AnswerRequest, AnswerResult, AnswerService } from '../../src/server/services.ts';
import { ANSWER_KEY, cannedResult, FAKE_PNG, testConfig } from '../server/helpers.ts';

class HeldAnswers implements AnswerService {
  release: () => void = () => {};
  // Declared before `arrived`: field initialisers run in order.
  private onArrive: () => void = () => {};
  readonly arrived = new Promise<void>((resolve) => {
    this.onArrive = resolve;
  });

  async answer(request: AnswerRequest): Promise<AnswerResult> {
    this.onArrive();
    await new Promise<void>((resolve) => {
      this.release = resolve;
    });
    return cannedResult(request);
  }
}

test('draining: a request arriving on an open connection is a coded 503 with Retry-After; the in-flight one finishes', async () => {
  const service = new HeldAnswers();
  const app = await buildApp({
    config: testConfig(),
    metrics: createMetrics({ defaultMetrics: false }),
    answerService: service,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const body = JSON.stringify({ image: FAKE_PNG.toString('base64'), question: 'Is there an effusion?' });
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(
    `POST /v1/answer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ANSWER_KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  await service.arrived;
  const closed = app.close();
  socket.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 50));
  service.release();
  await closed;
  await ended;

  const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 503], received);
  const second = received.slice(received.lastIndexOf('HTTP/1.1 503'));
  assert.match(second, /\r\nretry-after: \d+\r\n/i);
  const json = JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4));
  // A /v2 route: the Open Inference Protocol's error body, led by the stable code.
  assert.match(json.error, /^MODEL_NOT_READY: .*shutting down/);
});
