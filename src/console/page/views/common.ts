import { ApiError } from '../api.js';
import { h } from '../dom.js';
import { STORE_COLORS, type Store } from '../format.js';

export function storeBadge(store: Store): HTMLElement {
  return h('span', { class: 'badge', style: `--store: ${STORE_COLORS[store] ?? '#555'}` }, store);
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Runs `task` with `button` disabled and a progress bar after it; reports failures to `report`. */
export async function withProgress<T>(button: HTMLButtonElement, task: () => Promise<T>, report: (message: string) => void): Promise<T | undefined> {
  const progress = h('progress', { 'aria-label': 'Working' });
  button.disabled = true;
  button.after(progress);
  try {
    return await task();
  } catch (error) {
    report(errorText(error));
    return undefined;
  } finally {
    button.disabled = false;
    progress.remove();
  }
}

export function table(headers: string[], rows: (Node | string)[][], label: string): HTMLTableElement {
  return h(
    'table',
    { 'aria-label': label },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((header) => h('th', { scope: 'col' }, header)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          {},
          row.map((cell) => h('td', {}, cell)),
        ),
      ),
    ),
  );
}

export function definitionList(entries: [string, Node | string | number | null | undefined][]): HTMLDListElement {
  return h(
    'dl',
    {},
    entries.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([term, value]) => [h('dt', {}, term), h('dd', {}, value as Node | string)]),
  );
}
