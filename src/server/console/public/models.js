// Models and rounds (scope admin): the version chain with CURRENT, each round's outcome and gate
// evidence, the schedule, and rollback with a confirmation step. It reads and writes through the
// /v1/admin routes themselves, so every call is audited as the API's are.
import { get, post } from './api.js';
import { h, num, svg, when } from './dom.js';
import { refusal, showAlert } from './ui.js';

/** Versions ordered along their parent links, newest first. */
function chain(versions) {
  const byId = new Map(versions.map((v) => [v.version, v]));
  const children = new Set(versions.map((v) => v.parent).filter(Boolean));
  const ordered = [];
  const seen = new Set();
  const tips = versions
    .filter((v) => !children.has(v.version))
    .sort((a, b) => b.version.localeCompare(a.version));
  for (const tip of tips) {
    for (let v = tip; v && !seen.has(v.version); v = byId.get(v.parent)) {
      seen.add(v.version);
      ordered.push(v);
    }
  }
  for (const v of versions) if (!seen.has(v.version)) ordered.push(v);
  return ordered;
}

function versionsPanel(doc, onRollback) {
  const items = chain(doc.versions).map((v) =>
    h(
      'li',
      { class: v.current ? 'version current' : 'version' },
      h('span', { class: 'vid' }, v.version),
      v.current ? h('span', { class: 'badge flag' }, 'CURRENT') : '',
      v.serving ? h('span', { class: 'badge' }, 'serving') : '',
      h('span', {}, v.parent ? `parent ${v.parent}` : 'no parent'),
      h('span', {}, `score ${num(v.eval_primary)}`),
      h('span', {}, v.run_id ? `from ${v.run_id}` : 'bundled release'),
      v.error ? h('span', { class: 'error' }, v.error) : '',
    ),
  );
  const target = h(
    'select',
    { id: 'rollback-to' },
    h('option', { value: '' }, 'one step back (the previous CURRENT)'),
    doc.versions
      .filter((v) => !v.current && !v.error)
      .map((v) => h('option', { value: v.version }, v.version)),
  );
  const reason = h('input', {
    id: 'rollback-reason',
    type: 'text',
    maxlength: '500',
    required: true,
    autocomplete: 'off',
  });
  const form = h(
    'form',
    {
      class: 'rollback',
      'aria-label': 'Rollback',
      onsubmit: (e) => {
        e.preventDefault();
        if (!reason.value.trim()) {
          showAlert('Give a reason for the rollback.');
          reason.focus();
          return;
        }
        onRollback(target.value, reason.value.trim());
      },
    },
    h('h3', {}, 'Rollback'),
    h('label', { for: 'rollback-to' }, 'Move CURRENT to'),
    target,
    h(
      'label',
      { for: 'rollback-reason' },
      'Reason (kept in the registry history; the audit log keeps its length)',
    ),
    reason,
    h('button', { type: 'submit' }, 'Roll back…'),
  );
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'versions-title' },
    h('h2', { id: 'versions-title' }, `Versions of ${doc.model}`),
    h('p', {}, `CURRENT ${doc.current ?? 'none'} · this replica serves ${doc.serving ?? 'nothing yet'}`),
    h('ol', { class: 'versions', id: 'versions' }, items),
    form,
  );
}

/** Current vs candidate primary score as two bars. */
function evalChart(run) {
  if (!run.eval || run.eval.current === null || run.eval.candidate === null)
    return h('span', { class: 'note' }, 'no evaluation');
  const w = 160;
  const bar = (y, value, cls, label) => [
    svg('rect', { x: 70, y, width: Math.max(1, value * (w - 80)), height: 10, class: cls }),
    svg('text', { x: 0, y: y + 9, class: 'chart-label' }, label),
    svg('text', { x: 74 + value * (w - 80), y: y + 9, class: 'chart-label' }, num(value)),
  ];
  return svg(
    'svg',
    {
      width: w + 40,
      height: 30,
      role: 'img',
      'aria-label': `score before ${num(run.eval.current)}, after ${num(run.eval.candidate)}`,
    },
    bar(2, run.eval.current, 'bar-before', 'before'),
    bar(17, run.eval.candidate, 'bar-after', 'candidate'),
  );
}

function pairsChart(pairs) {
  const entries = Object.entries(pairs ?? {}).filter(([, n]) => n > 0);
  if (entries.length === 0) return h('p', { class: 'note' }, 'No pairs.');
  const max = Math.max(...entries.map(([, n]) => n));
  return svg(
    'svg',
    {
      width: 360,
      height: entries.length * 16 + 4,
      role: 'img',
      'aria-label': `pairs by kind: ${entries.map(([k, n]) => `${k} ${n}`).join(', ')}`,
    },
    entries.flatMap(([kind, n], i) => [
      svg('text', { x: 0, y: i * 16 + 12, class: 'chart-label' }, kind),
      svg('rect', {
        x: 140,
        y: i * 16 + 3,
        width: Math.max(1, (n / max) * 180),
        height: 11,
        class: 'bar-after',
      }),
      svg('text', { x: 146 + (n / max) * 180, y: i * 16 + 12, class: 'chart-label' }, String(n)),
    ]),
  );
}

function runDetails(record) {
  if (!record) return h('p', { class: 'note' }, 'The run record is unreadable.');
  const gate = record.gate;
  const dpo = record.dpo;
  return h(
    'div',
    { class: 'details' },
    h('h4', {}, 'Gate'),
    gate
      ? h(
          'div',
          {},
          h('p', {}, gate.promote ? 'promote' : `reject: ${gate.reasons.join('; ') || 'no reason given'}`),
          h(
            'table',
            { class: 'gate' },
            h('caption', {}, 'Checks (before / after evidence)'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['check', 'metric', 'passed', 'applicable', 'evidence'].map((c) =>
                  h('th', { scope: 'col' }, c),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              (gate.checks ?? []).map((c) =>
                h(
                  'tr',
                  { class: c.passed ? '' : 'low' },
                  h('td', {}, c.name),
                  h('td', {}, c.metric),
                  h('td', {}, c.passed ? 'yes' : 'no'),
                  h('td', {}, c.applicable ? 'yes' : 'no'),
                  h('td', {}, c.evidence),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'note' }, 'No gate decision (the run did not get that far).'),
    h('h4', {}, 'Pairs by kind'),
    pairsChart(record.counts?.pairs_by_kind),
    h('h4', {}, 'DPO'),
    dpo
      ? h(
          'p',
          {},
          `${dpo.steps} steps in ${num(dpo.minutes, 1)} min · final loss ${num(dpo.final_loss)} · margin ${num(dpo.final_margin)} · accuracy ${num(dpo.final_accuracy)} · Δlog p chosen ${num(dpo.logp_chosen_change)} · rejected ${num(dpo.logp_rejected_change)}`,
        )
      : h('p', { class: 'note' }, 'No DPO step ran.'),
    h(
      'p',
      { class: 'note' },
      'Per-step DPO curves stay in the run directory; the run record keeps the final statistics.',
    ),
  );
}

function runsPanel(runs, schedule) {
  const rows = runs.runs.map((run) => {
    const details = h('td', { colspan: '6' });
    const detailRow = h('tr', { class: 'details-row', hidden: true }, details);
    const toggle = h(
      'button',
      {
        type: 'button',
        'aria-expanded': 'false',
        onclick: async () => {
          const open = toggle.getAttribute('aria-expanded') === 'true';
          toggle.setAttribute('aria-expanded', String(!open));
          detailRow.hidden = open;
          if (!open && !details.firstChild) {
            try {
              details.append(runDetails((await get(`/v1/admin/runs/${encodeURIComponent(run.id)}`)).record));
            } catch (error) {
              details.append(refusal(error));
            }
          }
        },
      },
      run.id,
    );
    return [
      h(
        'tr',
        {},
        h('td', {}, toggle),
        h('td', {}, h('span', { class: `badge ${run.status}` }, run.status)),
        h('td', {}, run.trigger ?? '–'),
        h('td', {}, when(run.started_at)),
        h('td', {}, `${run.base_version ?? '–'} → ${run.candidate_version ?? '–'}`),
        h('td', {}, evalChart(run)),
      ),
      detailRow,
    ];
  });
  const s = schedule;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'runs-title' },
    h('h2', { id: 'runs-title' }, 'Rounds'),
    s
      ? h(
          'p',
          { id: 'schedule' },
          s.enabled
            ? `Next scheduled round ${when(s.next_at)} (every ${s.interval_hours} h, or after ${s.min_hard_examples} new hard examples)`
            : 'The trainer is off on this replica.',
          ` · pending hard examples ${s.pending_hard_examples ?? '–'}`,
          s.active ? ` · running ${s.active.run_id} since ${when(s.active.started_at)}` : '',
        )
      : '',
    runs.runs.length
      ? h(
          'table',
          { class: 'runs' },
          h('caption', {}, 'Most recently started first; a round id opens its gate evidence'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['round', 'outcome', 'trigger', 'started', 'base → candidate', 'score before / after'].map(
                (c) => h('th', { scope: 'col' }, c),
              ),
            ),
          ),
          h('tbody', {}, rows),
        )
      : h('p', { class: 'note' }, 'No rounds yet.'),
  );
}

export function modelsView() {
  let container = null;
  let versions = null;

  function confirmRollback(to, reason) {
    const from = versions.current;
    const target = to || 'the previous CURRENT';
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      h('h2', { id: 'confirm-title' }, 'Confirm rollback'),
      h('p', {}, `Move CURRENT from ${from ?? 'none'} to ${target}? Every replica swaps to it.`),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', id: 'confirm-cancel', onclick: () => dialog.close() }, 'Cancel'),
        h(
          'button',
          {
            type: 'button',
            id: 'confirm-rollback',
            class: 'danger',
            onclick: async () => {
              dialog.close();
              try {
                const moved = await post('/v1/admin/rollback', { ...(to ? { to } : {}), reason });
                showAlert(`CURRENT moved from ${moved.from} to ${moved.to}.`);
                await load();
              } catch (error) {
                showAlert(`Rollback refused: ${error.code ?? ''} ${error.message}`);
              }
            },
          },
          'Roll back',
        ),
      ),
    );
    dialog.addEventListener('close', () => dialog.remove());
    container.append(dialog);
    dialog.showModal();
    dialog.querySelector('#confirm-cancel').focus();
  }

  async function load() {
    let runs;
    let schedule = null;
    try {
      [versions, runs] = await Promise.all([get('/v1/admin/versions'), get('/v1/admin/runs?limit=20')]);
      schedule = await get('/console/api/schedule').catch(() => null);
    } catch (error) {
      container.replaceChildren(refusal(error));
      return;
    }
    container.replaceChildren(
      h('h2', { class: 'visually-hidden' }, 'Models and rounds'),
      versionsPanel(versions, confirmRollback),
      runsPanel(runs, schedule),
    );
  }

  return {
    async enter(element) {
      container = element;
      await load();
    },
  };
}
