import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { CerememoryConfig } from './runtime/config.js';
import { startRuntime, type Runtime, type RuntimeOptions } from './runtime/runtime.js';
import { createRestApp } from './transports/rest/app.js';

// One Cerememory server: the actor runtime on a data directory plus the transports on one port.

export interface CerememoryServer {
  readonly runtime: Runtime;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startServer(config: CerememoryConfig, options: RuntimeOptions = {}): Promise<CerememoryServer> {
  const log = options.log ?? ((line: string) => console.error(line));
  const runtime = await startRuntime(config, { ...options, log });
  const app = createRestApp({
    hippocampus: runtime.hippocampus,
    health: runtime.health,
    log,
    maxBodyBytes: config.http.max_body_bytes,
  });
  const server: Server = createServer(getRequestListener(app.fetch));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.http.port, config.http.bind_address, () => resolve());
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.http.bind_address.includes(':') ? `[${config.http.bind_address}]` : config.http.bind_address;
  let closing: Promise<void> | undefined;
  return {
    runtime,
    port,
    url: `http://${host}:${port}`,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await runtime.close();
      })()),
  };
}
