/**
 * `chexpo loop run --continue-rejected`: a refused round can be registered (CURRENT untouched) and
 * be the next round's base, so a two-round run is gated once on its final candidate.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { lenientGate, ROUND, type RoundFixture, roundFixture, small } from './round-fixture.ts';

let f: RoundFixture;
before(async () => {
  f = await roundFixture();
});
after(() => f?.close());

test(
  'a refused candidate is registered without moving CURRENT, and the next round builds on it',
  ROUND,
  async () => {
    const registry = await f.openRegistry();
    try {
      const serving = await registry.current();
      const refused = await f.run(
        'run-f',
        { ...small, gate: { minPrimaryGain: 1 } },
        { registerRejected: true },
      );
      assert.equal(refused.record.status, 'rejected');
      assert.ok(refused.record.candidate_version, 'the refused candidate is registered');
      assert.equal(await registry.current(), serving, 'CURRENT does not move');
      const manifest = await registry.get(refused.record.candidate_version!);
      assert.equal(manifest.parent, serving);
      assert.match(manifest.training?.command ?? '', /refused by the gate/);

      const next = await f.run(
        'run-g',
        { ...small, gate: lenientGate },
        { base: refused.record.candidate_version! },
      );
      assert.equal(next.record.status, 'promoted');
      assert.equal(
        (await registry.get(next.record.candidate_version!)).parent,
        refused.record.candidate_version,
      );
      assert.equal(await registry.current(), next.record.candidate_version);
    } finally {
      registry.close();
    }
  },
);
