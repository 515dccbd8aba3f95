import { CerememoryClient } from '../client/client.js';
import type { CerememoryConfig } from '../runtime/config.js';
import { lockHolder } from '../runtime/data-dir-lock.js';
import type { Hippocampus } from '../actors/hippocampus/coordinator.js';
import { startRuntime } from '../runtime/runtime.js';
import { CMP_OPERATIONS, type OperationName } from './operations.js';

// Where the CLI and `cerememory mcp` send CMP operations: to a running server over Connect, or to an
// engine they start in-process on the data directory when no server owns it. Both speak CMP JSON, so
// a command or tool is written once.

export type CmpObject = Record<string, any>;

export interface CmpEndpoint {
  /** `remote` talks to a server at `url`; `local` runs the engine in this process. */
  readonly kind: 'local' | 'remote';
  readonly url?: string;
  call(name: OperationName, input?: CmpObject): Promise<CmpObject>;
  close(): Promise<void>;
}

/** The engine in this process; `close` is what closing the endpoint also closes (the runtime, for the CLI). */
export function localEndpoint(hippocampus: Hippocampus, close: () => Promise<void> = async () => {}): CmpEndpoint {
  return {
    kind: 'local',
    call: async (name, input = {}) => ((await CMP_OPERATIONS[name](hippocampus, input)) ?? {}) as CmpObject,
    close,
  };
}

export function remoteEndpoint(url: string, options: { apiKey?: string; timeoutMs?: number } = {}): CmpEndpoint {
  const client = new CerememoryClient({ baseUrl: url, ...options });
  return {
    kind: 'remote',
    url,
    call: async (name, input = {}) => {
      const result = await client.call(name, input);
      // IntrospectRecord answers {record} over gRPC (spec §6.2); CMP answers the record itself.
      return name === 'introspectRecord' ? (result.record as CmpObject) : result;
    },
    close: async () => client.close(),
  };
}

export interface OpenEndpointOptions {
  config: CerememoryConfig;
  /** Talk to this server; otherwise to the server that owns the data directory, if one does. */
  serverUrl?: string;
  apiKey?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** A server given or found through the data directory's lock file, else an in-process engine. */
export async function openEndpoint({ config, serverUrl, apiKey, timeoutMs, log }: OpenEndpointOptions): Promise<CmpEndpoint> {
  const url = serverUrl ?? lockHolder(config.data_dir)?.url;
  if (url !== undefined) return remoteEndpoint(url, { apiKey, timeoutMs });
  // The engine's own background jobs are for servers; a one-shot command should not start them.
  const oneShot: CerememoryConfig = {
    ...config,
    decay: { ...config.decay, background_enabled: false },
    dream: { ...config.dream, background_enabled: false },
  };
  const runtime = await startRuntime(oneShot, { log: log ?? (() => {}) });
  return localEndpoint(runtime.hippocampus, () => runtime.close());
}
