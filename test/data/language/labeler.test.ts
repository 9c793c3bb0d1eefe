import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelReport, labelReportDetailed } from '../../../src/data/labeler/index.ts';
import { Rng } from '../../../src/data/random.ts';
import { writeReport } from '../../../src/data/report/index.ts';
import type { FindingKey } from '../../../src/data/types.ts';
import { randomCases } from './cases.ts';

const cases: [string, Partial<Record<FindingKey, string>>][] = [
  ['No pleural effusion.', { pleural_effusion: 'negative' }],
  ['There is a small left pleural effusion.', { pleural_effusion: 'positive' }],
  ['No change in the small right effusion.', { pleural_effusion: 'positive' }],
  ['No interval change in the moderate cardiomegaly.', { cardiomegaly: 'positive' }],
  ['Small effusion without pneumothorax.', { pleural_effusion: 'positive', pneumothorax: 'negative' }],
  [
    'No evidence of consolidation, pleural effusion, or pneumothorax.',
    { consolidation: 'negative', pleural_effusion: 'negative', pneumothorax: 'negative' },
  ],
  ['Cannot exclude a small pneumothorax.', { pneumothorax: 'uncertain' }],
  ['A small pneumothorax cannot be excluded.', { pneumothorax: 'uncertain' }],
  ['Pneumothorax is not excluded.', { pneumothorax: 'uncertain' }],
  [
    'Right lower zone opacity may represent atelectasis.',
    { lung_opacity: 'positive', atelectasis: 'uncertain' },
  ],
  ['Opacity at the left base, likely atelectasis.', { lung_opacity: 'positive', atelectasis: 'uncertain' }],
  ['Findings are suggestive of pulmonary edema.', { edema: 'uncertain' }],
  ['Possible right upper zone nodule.', { nodule: 'uncertain' }],
  ['The previously seen pneumothorax has resolved.', { pneumothorax: 'negative' }],
  ['Lungs are clear of consolidation.', { consolidation: 'negative' }],
  ['Negative for pneumothorax.', { pneumothorax: 'negative' }],
  [
    'No pneumothorax, but there is a small left effusion.',
    { pneumothorax: 'negative', pleural_effusion: 'positive' },
  ],
  ['No pneumothorax; small left effusion.', { pneumothorax: 'negative', pleural_effusion: 'positive' }],
  ['Heart size is normal.', { cardiomegaly: 'negative' }],
  ['The heart is not enlarged.', { cardiomegaly: 'negative' }],
  ['The cardiomediastinal silhouette is within normal limits.', { cardiomegaly: 'negative' }],
  ['Enlarged cardiac silhouette.', { cardiomegaly: 'positive' }],
  ['Atelectasis rather than consolidation.', { atelectasis: 'positive', consolidation: 'negative' }],
  ['The endotracheal tube has been removed.', { endotracheal_tube: 'negative' }],
  ['Free of pleural effusion.', { pleural_effusion: 'negative' }],
  ['Rib fractures are not seen.', { rib_fracture: 'negative' }],
  ['Mass versus consolidation in the right upper zone.', { mass: 'uncertain', consolidation: 'uncertain' }],
  ['Nodule is seen. No mass.', { nodule: 'positive', mass: 'negative' }],
];

for (const [text, expected] of cases) {
  test(`labels "${text}"`, () => {
    const labels = labelReport(text);
    for (const [key, want] of Object.entries(expected)) assert.equal(labels[key as FindingKey], want, key);
    const mentioned = Object.entries(labels)
      .filter(([, l]) => l !== 'not_mentioned')
      .map(([k]) => k);
    assert.deepEqual(mentioned.sort(), Object.keys(expected).sort());
  });
}

test('positive beats negative across sentences and attributes are read', () => {
  const d = labelReportDetailed(
    'No effusion on the left. Small right pleural effusion. Large bilateral effusions.',
  );
  assert.equal(d.labels.pleural_effusion, 'positive');
  assert.deepEqual(d.attributes.pleural_effusion, { side: 'right', severity: 'mild' });
  const n = labelReportDetailed('Nodule measuring 14 mm in the left upper zone.');
  assert.deepEqual(n.attributes.nodule, { side: 'left', size_mm: 14 });
});

test('scores the report generator perfectly: presence, side, severity and size', () => {
  let checked = 0;
  for (const c of randomCases(1500, 23, 0.3)) {
    const report = writeReport(c, Rng.derive(23, c.id));
    const d = labelReportDetailed(report.text);
    for (const f of c.findings) {
      assert.equal(d.labels[f.name], f.present ? 'positive' : 'negative', `${f.name}\n${report.text}`);
      if (!f.present) continue;
      const a = d.attributes[f.name] ?? {};
      if (f.side) assert.equal(a.side, f.side, `${f.name} side\n${report.text}`);
      if (f.severity) assert.equal(a.severity, f.severity, `${f.name} severity\n${report.text}`);
      if (f.size_mm !== undefined)
        assert.equal(a.size_mm, Math.round(f.size_mm), `${f.name} size\n${report.text}`);
      checked++;
    }
  }
  assert.ok(checked > 3000);
});
