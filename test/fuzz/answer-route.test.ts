/**
 * Property: POST /v1/answer never answers 5xx to client input. Random JSON values as the body,
 * near-valid bodies with each field drawn from valid and hostile values plus unknown fields, raw
 * non-JSON text, and multipart bodies with random fields and parts. The service behind the route
 * decodes the image for real (decodeImage), so image errors travel the whole mapping; every non-200
 * answer must carry a catalogue code whose status it has. Fixed seed; reports the cases tried.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { decodeImage, encodePng16 } from '../../src/data/image/index.ts';
import { renderCase, sampleCase } from '../../src/data/phantom/index.ts';
import { ERROR_CATALOGUE, isErrorCode } from '../../src/errors/public.ts';
import { buildApp } from '../../src/server/app.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import type { AnswerRequest, AnswerResult, AnswerService } from '../../src/server/services.ts';
import { ANSWER_KEY, bearer, cannedResult, multipartBody, testConfig } from '../server/helpers.ts';

const SEED = 20_261_127;
const PNG = Buffer.from(encodePng16(renderCase(sampleCase(5), { size: 64 })));

class DecodingService implements AnswerService {
  async answer(request: AnswerRequest): Promise<AnswerResult> {
    decodeImage(request.image);
    return cannedResult(request);
  }
}

let app: FastifyInstance;
before(async () => {
  app = await buildApp({
    // Rate limiting off: hundreds of requests from one key are the point here.
    config: testConfig({
      CHEXPO_RATE_LIMIT_MAX: '0',
      CHEXPO_RATE_LIMIT_ADDRESS_MAX: '0',
      CHEXPO_MAX_IMAGE_BYTES: '65536',
    }),
    metrics: createMetrics({ defaultMetrics: false }),
    answerService: new DecodingService(),
  });
});
after(() => app.close());

function assertClientAnswer(reply: LightMyRequestResponse): void {
  assert.ok(reply.statusCode < 500, `${reply.statusCode}: ${reply.body}`);
  if (reply.statusCode === 200) return;
  const { error } = reply.json() as { error: { code: string } };
  assert.ok(isErrorCode(error.code), reply.body);
  assert.equal(ERROR_CATALOGUE[error.code].status, reply.statusCode, reply.body);
}

const post = (payload: string | Buffer, headers: Record<string, string>) =>
  app.inject({ method: 'POST', url: '/v1/answer', headers: { ...bearer(ANSWER_KEY), ...headers }, payload });

const json = { 'content-type': 'application/json' };

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '__proto__', 'constructor', '\u0000', 'a'.repeat(5000), '%00', '{{x}}'),
);
/** Mostly valid (so the success path is reached), sometimes hostile. */
const mostly = <T>(valid: fc.Arbitrary<T>, ...hostile: fc.Arbitrary<unknown>[]) =>
  fc.oneof(
    { arbitrary: valid as fc.Arbitrary<unknown>, weight: 6 },
    ...hostile.map((arbitrary) => ({ arbitrary, weight: 1 })),
  );
const imageField = mostly(
  fc.constantFrom(PNG.toString('base64'), `data:image/png;base64,${PNG.toString('base64')}`),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')),
  fc.uint8Array({ minLength: 60_000, maxLength: 70_000 }).map((b) => Buffer.from(b).toString('base64')),
  hostileString,
  fc.anything(),
);
const nearValidBody = fc.record(
  {
    image: imageField,
    task: mostly(fc.constant('report'), fc.constant('vqa'), hostileString, fc.anything()),
    question: mostly(fc.constant('Is there a pleural effusion?'), hostileString, fc.anything()),
    options: mostly(
      fc.constant(['left', 'right']),
      fc.array(hostileString, { maxLength: 12 }),
      fc.anything(),
    ),
    max_tokens: mostly(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: -10, max: 10_000 }),
      fc.double(),
      fc.anything(),
    ),
    top_logprobs: mostly(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -5, max: 50 }), fc.anything()),
    return_tokens: mostly(fc.boolean(), fc.anything()),
    request_id: mostly(fc.uuid(), hostileString, fc.anything()),
  },
  { requiredKeys: ['image'] },
);
const withExtras = fc
  .tuple(nearValidBody, fc.option(fc.dictionary(hostileString, fc.anything(), { maxKeys: 3 }), { freq: 3 }))
  .map(([body, extra]) => ({ ...extra, ...body }));

let tried = 0;
function run(property: fc.IAsyncPropertyWithHooks<never>, numRuns: number): Promise<void> {
  tried += numRuns;
  return fc.assert(property as fc.IAsyncProperty<unknown>, { seed: SEED, numRuns });
}

test('any JSON value as the body', async () => {
  await run(
    fc.asyncProperty(fc.jsonValue(), async (body) =>
      assertClientAnswer(await post(JSON.stringify(body), json)),
    ) as never,
    250,
  );
});

test('near-valid bodies: each field valid or hostile, plus unknown fields', async (t) => {
  let ok = 0;
  await run(
    fc.asyncProperty(withExtras, async (body) => {
      const reply = await post(JSON.stringify(body), json);
      assertClientAnswer(reply);
      if (reply.statusCode === 200) ok += 1;
    }) as never,
    400,
  );
  // The generator must also reach the success path, or it only tests validation.
  assert.ok(ok > 0, 'no case was valid');
  t.diagnostic(`${ok} of 400 answered 200`);
});

test('raw text under JSON, multipart and other content types', async () => {
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=latin1',
    'multipart/form-data; boundary=x',
    'multipart/form-data',
    'text/plain',
    'application/octet-stream',
    'image/png',
  );
  await run(
    fc.asyncProperty(fc.string({ maxLength: 300 }), contentType, async (text, type) =>
      assertClientAnswer(await post(text, { 'content-type': type })),
    ) as never,
    250,
  );
});

test('multipart: random fields, repeated parts, random or missing image parts', async () => {
  const field = fc.constantFrom(
    'task',
    'question',
    'options',
    'max_tokens',
    'top_logprobs',
    'request_id',
    'other',
  );
  const fields = fc.dictionary(field, fc.oneof(hostileString, fc.array(hostileString, { maxLength: 3 })), {
    maxKeys: 5,
  });
  const file = fc.option(
    fc.record({
      name: fc.constantFrom('image', 'image2', 'file'),
      filename: hostileString,
      type: fc.constantFrom('image/png', 'application/dicom', 'text/plain', ''),
      data: fc.oneof(
        fc.constant(PNG),
        fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b)),
      ),
    }),
    { nil: undefined },
  );
  await run(
    fc.asyncProperty(fields, file, async (f, part) => {
      const { payload, headers } = multipartBody(f, part);
      assertClientAnswer(await post(payload, headers));
    }) as never,
    300,
  );
});

test('cases tried', (t) => {
  t.diagnostic(`${tried} requests, none answered 5xx`);
  assert.equal(tried, 1200);
});
