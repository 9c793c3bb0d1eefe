import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CASES } from './cases.ts';
import { checkGradients } from './gradcheck.ts';

test('every gradient rule agrees with central finite differences', async () => {
  const failures: string[] = [];
  let checked = 0;
  for (const c of CASES) {
    try {
      const report = await checkGradients(c);
      checked += report.checked;
      if (report.failures.length > 0) failures.push(`${c.name}: ${report.failures.join('; ')}`);
    } catch (e) {
      failures.push(`${c.name}: ${(e as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(checked > 150, `only ${checked} coordinates checked`);
});
