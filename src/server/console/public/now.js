// Now (any key): flag rate, mean risk and answers per minute over the last hour, workers and queue,
// from the server's own metrics; refreshed every 10 s while the view is open.
import { get } from './api.js';
import { h, num, pct, when } from './dom.js';
import { refusal } from './ui.js';

const card = (label, value, note) =>
  h(
    'div',
    { class: 'card' },
    h('h3', {}, label),
    h('p', { class: 'value' }, value),
    note ? h('p', { class: 'note' }, note) : '',
  );

export function nowView() {
  let container = null;
  let timer = null;

  async function load() {
    let now;
    try {
      now = await get('/console/api/now');
    } catch (error) {
      container.replaceChildren(refusal(error));
      return;
    }
    const minutes = Math.round(now.window_s / 60);
    const span = now.window_s < 60 ? `${now.window_s} s` : `${minutes} min`;
    const window = minutes >= 60 ? 'last hour' : `last ${span} (since start)`;
    container.replaceChildren(
      h('h2', {}, 'Now'),
      h('p', { class: 'note' }, `As of ${when(now.at)}; rates over the ${window}.`),
      h(
        'div',
        { class: 'cards' },
        card('Flag rate', pct(now.flag_rate), `${now.answers} answers`),
        card('Mean risk', num(now.mean_risk)),
        card('Answers per minute', num(now.answers_per_minute, 2)),
        card('Workers healthy', String(now.workers_healthy)),
        card(
          'Queue',
          `${now.queue.waiting} waiting · ${now.queue.running} running`,
          `${now.queue.queued} queued for inference`,
        ),
        card('Serving', now.model_versions.join(', ') || 'no version'),
        card(
          'Trainer',
          now.trainer.run_active ? 'a round is running' : 'idle',
          `pending hard examples ${now.trainer.hard_examples_pending ?? '–'}`,
        ),
      ),
    );
  }

  return {
    async enter(element) {
      container = element;
      await load();
      timer = setInterval(() => void load(), 10_000);
    },
    leave() {
      clearInterval(timer);
    },
  };
}
