// The correction form of a queue item, in the shape its task needs (yes/no, an option, a catalogue
// word, or a report per finding with free text), and the correction it holds.
import { h } from './dom.js';

/** The correction form of the item's task. */
export function correctionForm(item, catalogue) {
  const form = item.form;
  const name = `c-${item.item.slice(0, 12)}`;
  if (form.kind === 'yes_no' || form.kind === 'option') {
    const choices = form.kind === 'yes_no' ? ['yes', 'no'] : form.options;
    return h(
      'fieldset',
      { class: 'correction', dataset: { kind: form.kind } },
      h('legend', {}, form.kind === 'yes_no' ? 'Correct answer (y / n)' : 'Correct option (1–9)'),
      choices.map((choice, i) =>
        h(
          'label',
          { class: 'choice' },
          h('input', { type: 'radio', name, value: choice, dataset: { index: String(i + 1) } }),
          form.kind === 'option' ? `${i + 1}. ${choice}` : choice,
        ),
      ),
    );
  }
  if (form.kind === 'value') {
    const id = `${name}-value`;
    return h(
      'fieldset',
      { class: 'correction', dataset: { kind: 'value' } },
      h('legend', {}, 'Correct answer (a word of the finding catalogue)'),
      h('label', { for: id }, 'Answer'),
      h(
        'select',
        { id, name: 'answer' },
        h('option', { value: '' }, '—'),
        form.values.map((v) => h('option', { value: v }, v)),
      ),
    );
  }
  const byKey = new Map(catalogue.findings.map((f) => [f.key, f]));
  const rows = form.findings.map((state) => {
    const spec = byKey.get(state.key);
    const base = `${name}-${state.key}`;
    const select = (field, label, options, value) =>
      h(
        'select',
        { id: `${base}-${field}`, name: field, 'aria-label': `${spec.display}: ${label}` },
        options.map(([v, text]) => h('option', { value: v, selected: v === (value ?? '') }, text)),
      );
    return h(
      'tr',
      { dataset: { key: state.key } },
      h('th', { scope: 'row' }, spec.display),
      h(
        'td',
        {},
        select(
          'state',
          'presence',
          [
            ['not_stated', 'not stated'],
            ['present', 'present'],
            ['absent', 'absent'],
          ],
          state.state,
        ),
      ),
      h(
        'td',
        {},
        spec.sides ? select('side', 'side', [['', '—'], ...spec.sides.map((s) => [s, s])], state.side) : '',
      ),
      h(
        'td',
        {},
        spec.severities
          ? select(
              'severity',
              'severity',
              [['', '—'], ...spec.severities.map((s) => [s.value, s.word])],
              state.severity,
            )
          : '',
      ),
    );
  });
  const textId = `${name}-free`;
  return h(
    'fieldset',
    { class: 'correction', dataset: { kind: 'report' } },
    h('legend', {}, 'Correct report, per finding'),
    h(
      'table',
      { class: 'findings' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['finding', 'presence', 'side', 'severity'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h('tbody', {}, rows),
    ),
    h(
      'label',
      { for: textId },
      'Free text (reduced to catalogue findings by the report labeler, then discarded: never stored)',
    ),
    h('textarea', { id: textId, name: 'free_text', rows: '2', maxlength: '4000' }),
  );
}

export function correctionOf(element) {
  const fieldset = element.querySelector('fieldset.correction');
  const kind = fieldset.dataset.kind;
  if (kind === 'yes_no' || kind === 'option') {
    const checked = fieldset.querySelector('input:checked');
    return checked ? { answer: checked.value } : null;
  }
  if (kind === 'value') {
    const value = fieldset.querySelector('select').value;
    return value ? { answer: value } : null;
  }
  const findings = [];
  for (const row of fieldset.querySelectorAll('tbody tr')) {
    const state = row.querySelector('select[name=state]').value;
    if (state === 'not_stated') continue;
    const finding = { key: row.dataset.key, present: state === 'present' };
    const side = row.querySelector('select[name=side]')?.value;
    const severity = row.querySelector('select[name=severity]')?.value;
    if (finding.present && side) finding.side = side;
    if (finding.present && severity) finding.severity = severity;
    findings.push(finding);
  }
  const freeText = fieldset.querySelector('textarea').value.trim();
  return { findings, ...(freeText ? { free_text: freeText } : {}) };
}
