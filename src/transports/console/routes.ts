import type { Hono } from 'hono';
import { consoleAssets, type ConsoleAssets } from './assets.js';

// The web console at /console (issue 15). The page and its assets are public, like /health: they hold
// no data, and every request the page makes goes to /v1 with the same auth as any client (the page
// asks for the key when the server answers 401). Everything is served from this port; nothing from a CDN.

/**
 * Scripts from this origin only and nothing evaluated from strings; the page talks to its own origin
 * only; it cannot be framed. Styles allow inline because uPlot and Cytoscape size their canvases
 * through style attributes.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function consoleRoutes(app: Hono<any>, assets: ConsoleAssets = consoleAssets()): void {
  const serve = (name: string) =>
    async function consoleFile(c: import('hono').Context) {
      const file = await assets.get(name);
      if (!file) return c.text('Not found', 404);
      return c.body(file.body as Uint8Array<ArrayBuffer>, 200, {
        'content-type': file.contentType,
        'cache-control': 'no-cache',
        'content-security-policy': CONSOLE_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
    };
  app.get('/console', serve('index.html'));
  app.get('/console/', serve('index.html'));
  app.get('/console/console.js', serve('console.js'));
  app.get('/console/console.css', serve('console.css'));
}
