// Review queue (scope review): flagged and recent answers, keyboard first.
//   j / k  next / previous answer      c / x  mark correct / incorrect
//   y / n  the yes/no correction       1–9    an option
//   Enter  submit                      Esc    cancel the correction
import { get, imageUrl, post } from './api.js';
import { correctionForm, correctionOf } from './correction-form.js';
import { h, num, when } from './dom.js';
import { refusal, showAlert, typing } from './ui.js';

const shade = (p) => `tok p${Math.min(9, Math.max(0, Math.floor(p * 10)))}`;

function tokensLine(item) {
  if (!item.tokens) {
    return h(
      'p',
      { class: 'answer' },
      item.answer,
      h('span', { class: 'note' }, ' (token probabilities could not be aligned with the text)'),
    );
  }
  return h(
    'p',
    { class: 'answer tokens' },
    item.tokens.map((t) => h('span', { class: shade(t.prob), title: `p = ${t.prob.toFixed(3)}` }, t.text)),
  );
}

function spansTable(item) {
  if (item.spans.length === 0) return h('p', { class: 'note' }, 'No spans.');
  return h(
    'table',
    { class: 'spans' },
    h('caption', {}, 'Spans'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'kind'),
        h('th', { scope: 'col' }, 'text'),
        h('th', { scope: 'col' }, 'confidence'),
      ),
    ),
    h(
      'tbody',
      {},
      item.spans.map((s) =>
        h(
          'tr',
          { class: s.confidence < 0.5 ? 'low' : '' },
          h('td', {}, s.finding ? `${s.kind} (${s.finding})` : s.kind),
          h('td', {}, s.text),
          h('td', {}, num(s.confidence)),
        ),
      ),
    ),
  );
}

function raisedBy(item) {
  const r = item.raised_by;
  return h(
    'ul',
    { class: 'raised' },
    h(
      'li',
      {},
      `risk ${num(item.risk)}${item.flagged ? ' (flagged)' : ''}; lowest token probability ${num(item.min_prob)}`,
    ),
    h(
      'li',
      {},
      r.input_warnings.length ? `input warnings: ${r.input_warnings.join(', ')}` : 'no input warnings',
    ),
    h(
      'li',
      {},
      r.low_confidence_spans.length
        ? `low-confidence spans: ${r.low_confidence_spans.join(' · ')}`
        : 'no low-confidence span',
    ),
    h('li', {}, 'OOD score: not stored with the answer (it is part of the risk)'),
  );
}

function filterBar(state, facets, reload) {
  const select = (id, label, value, options) =>
    h(
      'label',
      { for: id },
      label,
      h(
        'select',
        {
          id,
          onchange: (e) => {
            state.query[id.slice(2)] = e.target.value;
            state.query.page = 1;
            reload();
          },
        },
        options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
      ),
    );
  const any = (values) => [['', 'any'], ...values.map((v) => [v, v])];
  const q = state.query;
  return h(
    'form',
    { class: 'filters', 'aria-label': 'Filters', onsubmit: (e) => e.preventDefault() },
    select('f-view', 'Show', q.view, [
      ['flagged', 'flagged'],
      ['all', 'all recent'],
    ]),
    select('f-sort', 'Order', q.sort, [
      ['newest', 'newest first'],
      ['risk', 'riskiest first'],
    ]),
    select('f-task', 'Task', q.task, any(facets.tasks)),
    select('f-warning', 'Warning', q.warning, any(facets.warnings)),
    select('f-model_version', 'Model version', q.model_version, any(facets.model_versions)),
    h(
      'label',
      { for: 'f-min_risk' },
      'Risk at least',
      h('input', {
        id: 'f-min_risk',
        type: 'number',
        min: '0',
        max: '1',
        step: '0.05',
        value: q.min_risk,
        onchange: (e) => {
          q.min_risk = e.target.value;
          q.page = 1;
          reload();
        },
      }),
    ),
  );
}

export function reviewView() {
  const state = {
    query: {
      view: 'flagged',
      sort: 'newest',
      task: '',
      warning: '',
      model_version: '',
      min_risk: '',
      page: 1,
    },
    page: null,
    catalogue: null,
    selected: -1,
    pending: null, // { verdict } of the selected item, before submit
    urls: [],
    container: null,
  };

  const itemElements = () => [...state.container.querySelectorAll('li.item')];

  function revoke() {
    for (const url of state.urls) URL.revokeObjectURL(url);
    state.urls = [];
  }

  function select(index) {
    const elements = itemElements();
    if (elements.length === 0) return;
    state.selected = Math.max(0, Math.min(elements.length - 1, index));
    state.pending = null;
    elements.forEach((el, i) => {
      el.classList.toggle('selected', i === state.selected);
      el.setAttribute('aria-current', i === state.selected ? 'true' : 'false');
      // An unsubmitted correction goes; a recorded verdict stays on its item.
      if (!el.classList.contains('reviewed')) el.querySelector('.verdict').replaceChildren();
    });
    const el = elements[state.selected];
    el.focus();
    el.scrollIntoView({ block: 'nearest' });
  }

  function mark(verdict) {
    const el = itemElements()[state.selected];
    if (!el) return;
    const item = state.page.items[state.selected];
    state.pending = { verdict };
    const area = el.querySelector('.verdict');
    const hint = h('p', { class: 'hint' }, `Marked ${verdict}. Enter submits, Esc cancels.`);
    if (verdict === 'correct') {
      area.replaceChildren(hint);
      el.focus();
      return;
    }
    const form = correctionForm(item, state.catalogue);
    area.replaceChildren(hint, form);
    form.querySelector('input, select')?.focus();
  }

  async function submit() {
    const el = itemElements()[state.selected];
    if (!el || !state.pending) return;
    const item = state.page.items[state.selected];
    const body = { item: item.item, verdict: state.pending.verdict };
    if (body.verdict === 'incorrect') {
      const correction = correctionOf(el);
      if (!correction) {
        showAlert('Choose the correct answer first.');
        return;
      }
      body.correction = correction;
    }
    try {
      const result = await post('/console/api/feedback', body);
      state.pending = null;
      el.classList.add('reviewed');
      el.querySelector('.verdict').replaceChildren(
        h(
          'p',
          { class: 'recorded', role: 'status' },
          `Recorded: ${body.verdict}`,
          result.correct_answer ? ` — stored answer: ${result.correct_answer}` : '',
        ),
      );
      showAlert('');
      select(state.selected + 1);
    } catch (error) {
      showAlert(`Not recorded: ${error.code ?? ''} ${error.message}`);
    }
  }

  function renderItem(item, index) {
    const figure = item.image
      ? h(
          'figure',
          { class: 'image' },
          h('img', { alt: 'De-identified radiograph of this answer', dataset: { src: item.image } }),
        )
      : h(
          'p',
          { class: 'note image' },
          'No image stored for this answer (CHEXPO_STORE_IMAGES is off or it was not kept).',
        );
    return h(
      'li',
      {
        class: 'item',
        tabindex: '-1',
        'aria-current': 'false',
        dataset: { index: String(index) },
        onclick: () => select(index),
      },
      h(
        'article',
        { 'aria-label': `Answer ${index + 1}: ${item.task}, risk ${num(item.risk, 2)}` },
        h(
          'header',
          { class: 'meta' },
          h(
            'span',
            { class: `badge ${item.flagged ? 'flag' : ''}` },
            item.flagged ? 'flagged' : 'not flagged',
          ),
          h('span', {}, item.task),
          h('span', {}, `risk ${num(item.risk, 2)}`),
          h('span', {}, item.model_version),
          h('time', { datetime: item.created_at }, when(item.created_at)),
          h(
            'span',
            { class: 'status' },
            item.labels.count
              ? `${item.labels.count} label(s), last ${item.labels.last.verdict} by ${item.labels.last.as}`
              : item.status,
          ),
        ),
        h(
          'div',
          { class: 'body' },
          figure,
          h(
            'div',
            { class: 'text' },
            h('p', { class: 'question' }, h('strong', {}, 'Question: '), item.question),
            h('div', {}, h('strong', {}, 'Answer:'), tokensLine(item)),
            spansTable(item),
            h('h3', {}, 'What raised the risk'),
            raisedBy(item),
          ),
        ),
        h('div', { class: 'verdict' }),
      ),
    );
  }

  async function load() {
    const q = state.query;
    const params = new URLSearchParams({ view: q.view, sort: q.sort, page: String(q.page) });
    for (const field of ['task', 'warning', 'model_version', 'min_risk'])
      if (q[field] !== '') params.set(field, q[field]);
    revoke();
    let page;
    try {
      state.catalogue ??= await get('/console/api/catalogue');
      page = await get(`/console/api/queue?${params}`);
    } catch (error) {
      state.container.replaceChildren(refusal(error));
      return;
    }
    state.page = page;
    const list = h('ol', { class: 'queue', 'aria-label': 'Answers to review' }, page.items.map(renderItem));
    const pager = h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      h(
        'button',
        { type: 'button', disabled: page.page <= 1, onclick: () => go(page.page - 1) },
        'Previous page',
      ),
      h('span', {}, `page ${page.page} of ${page.pages} · ${page.total} answers`),
      h(
        'button',
        { type: 'button', disabled: page.page >= page.pages, onclick: () => go(page.page + 1) },
        'Next page',
      ),
    );
    state.container.replaceChildren(
      h('h2', {}, 'Review queue'),
      h(
        'p',
        { class: 'keys' },
        'Keys: j / k next / previous · c correct · x incorrect · y / n or 1–9 choose · Enter submit · Esc cancel',
      ),
      filterBar(state, page.facets, load),
      page.items.length ? list : h('p', { class: 'note' }, 'Nothing to review with these filters.'),
      pager,
    );
    state.selected = -1;
    for (const img of state.container.querySelectorAll('img[data-src]')) {
      imageUrl(`/console/api/${img.dataset.src}`).then(
        (url) => {
          state.urls.push(url);
          img.src = url;
        },
        () => img.replaceWith(h('p', { class: 'note' }, 'The image could not be loaded.')),
      );
    }
  }

  function go(page) {
    state.query.page = page;
    void load().then(() => select(0));
  }

  return {
    async enter(container) {
      state.container = container;
      await load();
    },
    leave() {
      revoke();
    },
    key(event) {
      if (!state.page) return;
      if (event.key === 'Escape') {
        if (state.pending) select(state.selected);
        return;
      }
      if (event.key === 'Enter') {
        if (event.target instanceof HTMLTextAreaElement || event.target instanceof HTMLButtonElement) return;
        if (state.pending) {
          event.preventDefault();
          void submit();
        }
        return;
      }
      if (typing(event)) return;
      const last = state.page.items.length - 1;
      if (event.key === 'j') {
        if (state.selected >= last && state.page.page < state.page.pages) go(state.page.page + 1);
        else select(state.selected + 1);
      } else if (event.key === 'k') {
        if (state.selected <= 0 && state.page.page > 1) go(state.page.page - 1);
        else select(state.selected - 1);
      } else if (event.key === 'c' && state.selected >= 0) {
        mark('correct');
      } else if (event.key === 'x' && state.selected >= 0) {
        mark('incorrect');
      } else if (state.pending?.verdict === 'incorrect') {
        const el = itemElements()[state.selected];
        const radios = [...el.querySelectorAll('fieldset.correction input[type=radio]')];
        const pick =
          event.key === 'y' || event.key === 'n'
            ? radios.find((r) => r.value === (event.key === 'y' ? 'yes' : 'no'))
            : radios.find((r) => r.dataset.index === event.key);
        if (pick) {
          pick.checked = true;
          pick.focus();
          event.preventDefault();
        }
      } else {
        return;
      }
    },
  };
}
