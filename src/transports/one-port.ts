import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

// One listener for every transport: gRPC needs HTTP/2 (cleartext, "prior knowledge"), while browsers,
// curl and the REST clients speak HTTP/1.1. Node's `allowHTTP1` only works with TLS (ALPN), so we read
// the first bytes of each connection: the HTTP/2 client preface ("PRI * HTTP/2.0") goes to the h2c
// server, anything else to the HTTP/1.1 server (stack notes §6).

export type RequestHandler = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => void;

export interface OnePortServer {
  readonly port: number;
  close(): Promise<void>;
}

const PREFACE = 'PRI * HTTP/2.0';

export async function listenOnePort(handler: RequestHandler, port: number, host: string): Promise<OnePortServer> {
  const http1 = createHttp1Server(handler as (request: IncomingMessage, response: ServerResponse) => void);
  const http2 = createHttp2Server(handler as (request: Http2ServerRequest, response: Http2ServerResponse) => void);
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('readable', function route() {
      const head = socket.read() as Buffer | null;
      if (head === null) {
        if (!socket.destroyed && !socket.readableEnded) socket.once('readable', route);
        return;
      }
      socket.unshift(head);
      const start = head.toString('latin1', 0, Math.min(head.length, PREFACE.length));
      // Too few bytes to tell "PRI * HTTP/2.0" from "POST /…" yet: wait for more (slow clients).
      if (start.length < PREFACE.length && PREFACE.startsWith(start) && !socket.readableEnded) {
        socket.once('readable', route);
        return;
      }
      (start === PREFACE ? http2 : http1).emit('connection', socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        http1.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      })),
  };
}
