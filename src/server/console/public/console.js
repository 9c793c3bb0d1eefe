// Entry point: sign-in, the three views and the keyboard dispatch. No framework, no build step.
import { ApiError, get, signedIn, signIn, signOut } from './api.js';
import { modelsView } from './models.js';
import { nowView } from './now.js';
import { reviewView } from './review.js';
import { showAlert } from './ui.js';

const VIEWS = { review: reviewView, models: modelsView, now: nowView };
const $ = (id) => document.getElementById(id);
let current = null;

async function show(name) {
  const view = VIEWS[name] ? name : 'review';
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  current?.leave?.();
  const container = $('view');
  container.replaceChildren();
  showAlert('');
  current = VIEWS[view]();
  await current.enter(container);
}

async function onSignIn(event) {
  event.preventDefault();
  const input = $('api-key');
  const value = input.value.trim();
  input.value = '';
  if (!value) return;
  signIn(value);
  try {
    const session = await get('/console/api/session');
    $('who-key').textContent = `key ${session.key_id} · ${session.scopes.join(', ')}`;
  } catch (error) {
    signOut();
    showAlert(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error));
    return;
  }
  $('sign-in').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  $('view').hidden = false;
  await show(location.hash.slice(1));
}

function onSignOut() {
  signOut();
  current?.leave?.();
  current = null;
  $('view').replaceChildren();
  $('view').hidden = true;
  $('nav').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  $('api-key').focus();
}

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in-form').addEventListener('submit', onSignIn);
  $('sign-out').addEventListener('click', onSignOut);
  window.addEventListener('hashchange', () => {
    if (signedIn()) void show(location.hash.slice(1));
  });
  document.addEventListener('keydown', (event) => {
    if (!signedIn() || event.ctrlKey || event.metaKey || event.altKey) return;
    current?.key?.(event);
  });
  $('api-key').focus();
});
