import 'uplot/dist/uPlot.min.css';
import './console.css';
import { Api, ApiError } from './api.js';
import type { View, ViewContext } from './context.js';
import { field, h, replace } from './dom.js';
import { actionsView } from './views/actions.js';
import { graphView } from './views/graph.js';
import { journalView } from './views/journal.js';
import { recallView } from './views/recall.js';
import { recordView } from './views/record.js';
import { storesView } from './views/stores.js';
import { timelineView } from './views/timeline.js';

// The web console (issue 15): a hash-routed page over the REST API. When the server wants an API key,
// the page asks for it before it requests (or shows) anything else.

const VIEWS: { name: string; title: string; view: View }[] = [
  { name: 'recall', title: 'Recall', view: recallView },
  { name: 'timeline', title: 'Timeline', view: timelineView },
  { name: 'record', title: 'Record', view: recordView },
  { name: 'graph', title: 'Graph', view: graphView },
  { name: 'stores', title: 'Stores', view: storesView },
  { name: 'journal', title: 'Raw journal', view: journalView },
  { name: 'actions', title: 'Actions', view: actionsView },
];

const SPACE_STORAGE = 'cerememory.console.spaces';
const SPACE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

const api = new Api();
const root = document.getElementById('app')!;
const main = h('main', { id: 'view', tabindex: '-1' });
const status = h('p', { id: 'status', role: 'status', 'aria-live': 'polite' });

/** Spaces this browser has used: the REST API has no call that lists a server's spaces. */
function knownSpaces(): string[] {
  try {
    const list = JSON.parse(localStorage.getItem(SPACE_STORAGE) ?? '[]') as unknown;
    return Array.isArray(list) ? list.filter((space): space is string => typeof space === 'string' && SPACE_NAME.test(space)) : [];
  } catch {
    return [];
  }
}

function rememberSpace(space: string): void {
  const spaces = [space, ...knownSpaces().filter((known) => known !== space)].slice(0, 20);
  localStorage.setItem(SPACE_STORAGE, JSON.stringify(spaces));
}

function notify(message: string, kind: 'info' | 'error' = 'info'): void {
  status.textContent = message;
  status.className = kind;
}

function route(): { name: string; params: string[] } {
  const parts = location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((part) => part !== '')
    .map(decodeURIComponent);
  const name = VIEWS.some((view) => view.name === parts[0]) ? parts[0]! : 'recall';
  return { name, params: parts.slice(1) };
}

function render(): void {
  const { name, params } = route();
  for (const link of root.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const context: ViewContext = {
    api,
    params,
    navigate: (hash) => {
      location.hash = hash;
    },
    notify,
  };
  notify('');
  replace(main, VIEWS.find((view) => view.name === name)!.view(context));
}

function shell(): void {
  const spaceInput = h('input', { id: 'space', list: 'spaces', value: api.space, size: 12, spellcheck: 'false', autocomplete: 'off' });
  const datalist = h(
    'datalist',
    { id: 'spaces' },
    ['default', ...knownSpaces()].filter((s, i, all) => all.indexOf(s) === i).map((space) => h('option', { value: space })),
  );
  spaceInput.addEventListener('change', () => {
    const space = spaceInput.value.trim();
    if (!SPACE_NAME.test(space)) {
      notify('A space name is 1-64 characters of A-Z a-z 0-9 . _ -', 'error');
      spaceInput.value = api.space;
      return;
    }
    api.space = space;
    rememberSpace(space);
    render();
  });
  const signOut = api.hasKey
    ? h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            api.setKey(null);
            location.reload();
          },
        },
        'Forget key',
      )
    : null;
  replace(
    root,
    h(
      'header',
      {},
      h('h1', {}, h('a', { href: '#/recall' }, 'Cerememory')),
      h(
        'nav',
        { 'aria-label': 'Views' },
        VIEWS.map((view) => h('a', { href: `#/${view.name}`, 'data-view': view.name }, view.title)),
      ),
      h('div', { class: 'space' }, field('Space', spaceInput), datalist, signOut),
    ),
    status,
    main,
  );
  window.addEventListener('hashchange', () => {
    render();
    main.focus({ preventScroll: true });
  });
  render();
}

/** Asks for the API key; nothing else is requested or shown until the server accepts one. */
function keyPrompt(message?: string): void {
  const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true, autofocus: true });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    { class: 'key-prompt', 'aria-label': 'API key' },
    h('h1', {}, 'Cerememory'),
    h('p', {}, 'This server requires an API key (the one in auth.api_keys). It is kept for this tab only.'),
    field('API key', input),
    h('button', { type: 'submit', class: 'primary' }, 'Open the console'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    api.setKey(input.value.trim());
    void start();
  });
  replace(root, form);
  input.focus();
}

async function start(): Promise<void> {
  try {
    // One cheap authenticated call decides between the console and the key prompt.
    await api.get('/v1/introspect/stats');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const hadKey = api.hasKey;
      api.setKey(null);
      keyPrompt(hadKey ? 'That key was not accepted.' : undefined);
      return;
    }
    // Anything else (a store restarting, say) is shown in the views themselves.
  }
  api.onUnauthorized = () => keyPrompt('The server no longer accepts the key.');
  shell();
}

const firstSpace = knownSpaces()[0];
if (firstSpace) api.space = firstSpace;
void start();
