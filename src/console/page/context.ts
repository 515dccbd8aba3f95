import type { Api } from './api.js';

/** What every view gets: the API client, navigation, and a place to report. */
export interface ViewContext {
  api: Api;
  /** The route's parameters after the view name, e.g. ["<record id>"] for #/record/<id>. */
  params: string[];
  navigate(hash: string): void;
  /** A status line for the user (errors in red). */
  notify(message: string, kind?: 'info' | 'error'): void;
}

export type View = (context: ViewContext) => HTMLElement;

/** `#/record/<id>`: links between views are plain anchors, so they work with the keyboard and in new tabs. */
export const recordHref = (id: string) => `#/record/${encodeURIComponent(id)}`;
export const graphHref = (id: string) => `#/graph/${encodeURIComponent(id)}`;
