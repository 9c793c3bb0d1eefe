// Shared view parts: the alert line and the refusal panel a view shows when the API says no.
import { ApiError } from './api.js';
import { h } from './dom.js';

export function showAlert(message) {
  const alert = document.getElementById('alert');
  alert.textContent = message;
  alert.hidden = !message;
}

/** A refusal or failure from the API, shown in place of the view. */
export function refusal(error) {
  const text =
    error instanceof ApiError
      ? `${error.code}: ${error.message}`
      : `The request failed: ${error instanceof Error ? error.message : String(error)}`;
  return h('div', { class: 'panel refused', role: 'alert' }, h('h2', {}, 'Not available'), h('p', {}, text));
}

/** Whether a key press belongs to a text field (shortcuts stay out of the way there). */
export function typing(event) {
  const t = event.target;
  return (
    t instanceof HTMLTextAreaElement ||
    (t instanceof HTMLInputElement && !['radio', 'checkbox'].includes(t.type))
  );
}
