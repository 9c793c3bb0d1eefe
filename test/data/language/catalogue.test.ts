import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attributeWords,
  CATALOGUE,
  CHEXPERT_OBSERVATIONS,
  catalogueProblems,
  ctrWord,
  findingPhrase,
  hasAttributes,
  locationPhrase,
  presentSign,
  severityWord,
  sizeWord,
} from '../../../src/data/catalogue.ts';
import { FINDING_KEYS } from '../../../src/data/types.ts';

test('every finding key has a consistent catalogue entry', () => {
  assert.deepEqual(Object.keys(CATALOGUE).sort(), [...FINDING_KEYS].sort());
  assert.deepEqual(catalogueProblems(), []);
  for (const key of FINDING_KEYS) {
    const spec = CATALOGUE[key];
    assert.ok((CHEXPERT_OBSERVATIONS as readonly string[]).includes(spec.chexpert), key);
    assert.ok(spec.synonyms.length > 0 && spec.presentSigns.length > 0 && spec.absentSigns.length > 0, key);
  }
});

test('CheXpert names and severity words follow the clinical conventions', () => {
  assert.equal(CATALOGUE.pleural_effusion.chexpert, 'Pleural Effusion');
  assert.equal(CATALOGUE.nodule.chexpert, 'Lung Lesion');
  assert.equal(CATALOGUE.mass.chexpert, 'Lung Lesion');
  assert.equal(CATALOGUE.endotracheal_tube.chexpert, 'Support Devices');
  assert.equal(CATALOGUE.rib_fracture.chexpert, 'Fracture');
  assert.equal(severityWord('pleural_effusion', 'severe'), 'large');
  assert.equal(severityWord('pneumothorax', 'mild'), 'small');
  assert.equal(severityWord('cardiomegaly', 'severe'), 'marked');
  assert.equal(severityWord('edema', 'moderate'), 'moderate');
  assert.ok(CATALOGUE.consolidation.confusable.includes('lung_opacity'));
  assert.ok(CATALOGUE.nodule.confusable.includes('mass'));
  assert.ok(CATALOGUE.cardiomegaly.cooccurring.includes('pleural_effusion'));
});

test('attribute phrases render side, zone, size, tip and stay closed-vocabulary', () => {
  assert.equal(locationPhrase('right', 'lower'), 'right lower zone');
  assert.equal(locationPhrase('bilateral', 'upper'), 'upper zones');
  assert.equal(locationPhrase('left', undefined), 'left hemithorax');
  assert.equal(sizeWord(12.4), '12 mm');
  assert.equal(sizeWord(400), '150 mm');
  assert.equal(ctrWord(0.573), '0.55');
  assert.equal(ctrWord(0.2), '0.30');
  const effusion = {
    name: 'pleural_effusion' as const,
    present: true,
    side: 'right' as const,
    severity: 'mild' as const,
  };
  assert.equal(findingPhrase(effusion), 'small right pleural effusion');
  assert.equal(presentSign(effusion), 'blunting of the right costophrenic angle with a meniscus');
  assert.equal(
    findingPhrase({ name: 'nodule', present: true, side: 'left', zone: 'upper', size_mm: 9 }),
    'nodule measuring 9 mm in the left upper zone',
  );
  assert.match(
    findingPhrase({ name: 'central_line', present: true, tip: 'appropriate' }),
    /cavoatrial junction/,
  );
  assert.match(findingPhrase({ name: 'endotracheal_tube', present: true, tip: 'too_low' }), /carina/);
  // Attributes a finding does not allow are ignored (an effusion has no size).
  assert.equal(attributeWords({ name: 'pleural_effusion', present: true, size_mm: 30 }).size, undefined);
  assert.equal(hasAttributes({ name: 'pleural_effusion', present: true }), false);
  assert.equal(hasAttributes(effusion), true);
});
