// A loopback HTTP server (node:http on 127.0.0.1, random port) that tests program to speak a provider's
// wire format, so provider code runs over real fetch, sockets, headers and timeouts.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: any;
}

/** `attempt` counts requests to this server, from 1. */
export type FakeHandler = (request: SeenRequest, response: ServerResponse, attempt: number) => void;

export interface FakeProvider {
  /** "http://127.0.0.1:<port>" */
  origin: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export async function startFakeProvider(handler: FakeHandler): Promise<FakeProvider> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
      const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(seen);
      handler(seen, res, requests.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Each provider's success body carrying `text` as the model's reply. */
export const replyBody = {
  openai_compatible: (text: string) => ({ id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] }),
  anthropic: (text: string) => ({ id: 'm1', type: 'message', role: 'assistant', content: [{ type: 'text', text }], stop_reason: 'end_turn' }),
  gemini: (text: string) => ({ candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP' }] }),
} as const;

/** The user text of a request in any of the three wire formats. */
export function promptOf(body: any): { system: string; user: string } {
  if (Array.isArray(body?.messages) && body.messages[0]?.role === 'system') {
    return { system: body.messages[0].content, user: body.messages[1].content };
  }
  if (Array.isArray(body?.messages)) return { system: body.system, user: body.messages[0].content };
  return { system: body.systemInstruction.parts[0].text, user: body.contents[0].parts[0].text };
}

/** True when the prompt asks for relations rather than a summary (llm-provider.ts prompts). */
export function asksForRelations(body: any): boolean {
  return promptOf(body).system.includes('subject-predicate-object');
}
