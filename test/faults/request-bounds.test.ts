/**
 * Attacks on request and connection bounds (issue 13, defects 2, 8, 12, 13), against a listening app
 * on 127.0.0.1 with the fake engine: slow bodies, too many connections, multipart bodies padded
 * outside their parts, keys in query strings, over-long ids and headers, bodies cut short.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { type Harness, makeHarness } from '../server/fixtures/trainer-harness.ts';
import {
  ADMIN_KEY,
  ANSWER_KEY,
  bearer,
  FAKE_PNG,
  FakeAnswerService,
  multipartBody,
  testApp,
  testConfig,
} from '../server/helpers.ts';
import { until } from '../support/until.ts';

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

/** A raw connection that records what the server sends and when it closes. */
function rawConnection(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => received, closed };
}

function statusAndBody(raw: string): { status: number; body: { error?: { code: string } } } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return { status, body: body ? JSON.parse(body) : {} };
}

const answerHead = (type: string, length: number | 'chunked') =>
  `POST /v1/answer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ANSWER_KEY}\r\nContent-Type: ${type}\r\n` +
  (length === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${length}\r\n`) +
  '\r\n';

test('a body trickling past the deadline is cut with 408 REQUEST_TIMEOUT and the connection closed', async () => {
  const { app, service } = await testApp({ env: { CHEXPO_REQUEST_TIMEOUT_MS: '300' } });
  const port = await listen(app);
  try {
    const multipart = multipartBody(
      { question: 'q' },
      { name: 'image', filename: 'x.png', type: 'image/png', data: FAKE_PNG },
    );
    const cases = [
      {
        type: 'application/json',
        body: Buffer.from(JSON.stringify({ image: FAKE_PNG.toString('base64'), question: 'q' })),
      },
      { type: multipart.headers['content-type'], body: multipart.payload },
    ];
    for (const { type, body } of cases) {
      const conn = rawConnection(port);
      conn.socket.write(answerHead(type, body.length));
      // A third of the body, then a byte at a time while the connection lasts (bounded).
      conn.socket.write(body.subarray(0, Math.floor(body.length / 3)));
      let sent = Math.floor(body.length / 3);
      let open = true;
      void conn.closed.then(() => (open = false));
      await until(
        () => {
          if (open && sent < body.length - 1) conn.socket.write(body.subarray(sent, ++sent));
          return !open;
        },
        `the server to close a slow ${type} upload`,
        { everyMs: 50 },
      );
      const { status, body: answer } = statusAndBody(conn.received());
      assert.equal(status, 408, `${type}: ${conn.received()}`);
      assert.equal(answer.error?.code, 'REQUEST_TIMEOUT');
      assert.match(conn.received(), /\r\nconnection: close\r\n/i);
    }
    assert.equal(service.calls.length, 0, 'no slow request reached the engine');
    // A normal request on a fresh connection is unaffected.
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: bearer(ANSWER_KEY),
      payload: { image: FAKE_PNG.toString('base64'), question: 'q' },
    });
    assert.equal(ok.statusCode, 200);
  } finally {
    await app.close();
  }
});

test('connections beyond CHEXPO_MAX_CONNECTIONS are closed at once; the admitted ones are served', async () => {
  const { app } = await testApp({ env: { CHEXPO_MAX_CONNECTIONS: '3' } });
  const port = await listen(app);
  try {
    const held = [rawConnection(port), rawConnection(port), rawConnection(port)];
    await until(
      async () => (await new Promise<number>((r) => app.server.getConnections((_e, n) => r(n)))) === 3,
      'three open connections',
    );
    const refused = rawConnection(port);
    await refused.closed;
    assert.equal(refused.received(), '', 'a refused connection gets no answer');
    for (const conn of held) conn.socket.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(
      () => held.every((c) => c.received().startsWith('HTTP/1.1 200')),
      'the held connections to be served',
    );
    for (const conn of held) conn.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await until(
      async () => (await new Promise<number>((r) => app.server.getConnections((_e, n) => r(n)))) === 0,
      'the server to see the connections closed',
    );
    const res = await fetch(`http://127.0.0.1:${port}/v2/health/live`);
    assert.equal(res.status, 200);
  } finally {
    await app.close();
  }
});

test('multipart is bounded as a whole by CHEXPO_BODY_LIMIT_BYTES: a padded preamble or epilogue is 413', async () => {
  const limit = 64 * 1024;
  const { app, service } = await testApp({ env: { CHEXPO_BODY_LIMIT_BYTES: String(limit) } });
  const { payload, headers } = multipartBody(
    { question: 'q' },
    { name: 'image', filename: 'x.png', type: 'image/png', data: FAKE_PNG },
  );
  const padding = Buffer.alloc(4 * limit, 'a');
  const padded = {
    preamble: Buffer.concat([padding, Buffer.from('\r\n'), payload]),
    epilogue: Buffer.concat([payload, padding]),
  };
  for (const [where, body] of Object.entries(padded)) {
    // With a Content-Length: refused before reading.
    const declared = await app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: { ...headers, ...bearer(ANSWER_KEY) },
      payload: body,
    });
    assert.equal(declared.statusCode, 413, `${where}: ${declared.body}`);
    assert.equal(declared.json().error.code, 'BODY_TOO_LARGE');
  }
  // Chunked (no Content-Length): counted while streaming.
  const port = await listen(app);
  try {
    for (const [where, body] of Object.entries(padded)) {
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/answer',
          headers: { ...headers, ...bearer(ANSWER_KEY), 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024));
        req.end();
      }).catch((error: unknown) => ({ status: -1, body: String(error) }));
      assert.equal(reply.status, 413, `${where} (chunked): ${reply.body}`);
      assert.equal(JSON.parse(reply.body).error.code, 'BODY_TOO_LARGE');
    }
    // The unpadded form still answers.
    const fits = await app.inject({
      method: 'POST',
      url: '/v1/answer',
      headers: { ...headers, ...bearer(ANSWER_KEY) },
      payload,
    });
    assert.equal(fits.statusCode, 200, fits.body);
    assert.equal(service.calls.length, 1);
  } finally {
    await app.close();
  }
});

test('query strings are redacted from logged URLs (a key sent as ?api_key= never reaches the log)', async () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const app = await buildApp({
    config: testConfig(),
    metrics: createMetrics({ defaultMetrics: false }),
    answerService: new FakeAnswerService(),
    logger: { level: 'info', stream },
  });
  try {
    for (const url of [
      `/v2/health/live?api_key=${ANSWER_KEY}`,
      `/v1/admin/runs?key=${ADMIN_KEY}`,
      `/nowhere?token=${ANSWER_KEY}`,
    ]) {
      await app.inject({ url });
    }
    const log = lines.join('');
    assert.ok(lines.length >= 6, log);
    assert.ok(!log.includes(ANSWER_KEY) && !log.includes(ADMIN_KEY), log);
    assert.match(log, /"url":"\/v2\/health\/live\?\[redacted\]"/);
  } finally {
    await app.close();
  }
});

let h: Harness;
before(async () => {
  h = await makeHarness();
});
after(async () => h.close());

test('a run id as long as the schema allows is looked up (404), a longer one is 414 URI_TOO_LONG', async () => {
  const at = (length: number) =>
    h.app.inject({ url: `/v1/admin/runs/${'r'.repeat(length)}`, headers: bearer(ADMIN_KEY) });
  for (const length of [101, 128]) {
    const res = await at(length);
    assert.equal(res.statusCode, 404, `${length}: ${res.body}`);
    assert.equal(res.json().error.code, 'NOT_FOUND');
  }
  const long = await at(129);
  assert.equal(long.statusCode, 414, long.body);
  assert.equal(long.json().error.code, 'URI_TOO_LONG');
});

test('oversized headers, malformed requests and bodies cut short answer catalogue errors', async () => {
  const { app } = await testApp();
  const port = await listen(app);
  try {
    const exchange = async (text: string, halfClose: boolean) => {
      const conn = rawConnection(port);
      if (halfClose) conn.socket.end(text);
      else conn.socket.write(text);
      await conn.closed;
      return statusAndBody(conn.received());
    };
    const big = await exchange(
      `GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`,
      false,
    );
    assert.equal(big.status, 431);
    assert.equal(big.body.error?.code, 'HEADERS_TOO_LARGE');
    const garbage = await exchange('NOT HTTP AT ALL\r\n\r\n', false);
    assert.equal(garbage.status, 400);
    assert.equal(garbage.body.error?.code, 'INVALID_REQUEST');
    const body = JSON.stringify({ image: FAKE_PNG.toString('base64'), question: 'q' });
    const cut = await exchange(answerHead('application/json', body.length) + body.slice(0, 10), true);
    assert.equal(cut.status, 400);
    assert.equal(cut.body.error?.code, 'INVALID_REQUEST');
    const badUrl = await app.inject({ url: '/v1/admin/runs/%E0%A4%A', headers: bearer(ADMIN_KEY) });
    assert.equal(badUrl.statusCode, 400, badUrl.body);
    assert.equal(badUrl.json().error.code, 'INVALID_REQUEST');
  } finally {
    await app.close();
  }
});
