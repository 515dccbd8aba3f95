import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { create, toJson } from '@bufbuild/protobuf';
import { CerememoryClient, messageFromCmpJson } from '../client/client.js';
import { ExportMetadataSchema, ExportRequestSchema, ImportOptionsSchema, ImportRequestSchema } from '../gen/cerememory/v1/cerememory_pb.js';
import type { CerememoryConfig } from '../runtime/config/index.js';
import { lockHolder } from '../runtime/data-dir-lock.js';
import { startRuntime } from '../runtime/runtime.js';
import type { OperationName, Operations } from './operations.js';

// Where the CLI and `cerememory mcp` send CMP operations: to a running server over Connect, or to an
// engine they start in-process on the data directory when no server owns it. Both speak CMP JSON, so
// a command or tool is written once.

export type CmpObject = Record<string, any>;

export interface CmpEndpoint {
  /** `remote` talks to a server at `url`; `local` runs the engine in this process. */
  readonly kind: 'local' | 'remote';
  readonly url?: string;
  call(name: OperationName, input?: CmpObject): Promise<CmpObject>;
  /** lifecycle.export: the archive into `out` (ended when done); answers the export metadata. */
  exportArchive(input: CmpObject, out: Writable): Promise<CmpObject>;
  /** lifecycle.import from a byte stream (`input` without archive_data); nothing is written unless it all verifies. */
  importArchive(input: CmpObject, archive: AsyncIterable<Uint8Array>): Promise<CmpObject>;
  close(): Promise<void>;
}

/** The engine in this process; `close` is what closing the endpoint also closes (the runtime, for the CLI). */
export function localEndpoint(operations: Operations, close: () => Promise<void> = async () => {}): CmpEndpoint {
  return {
    kind: 'local',
    call: async (name, input = {}) => ((await operations.call(name, input)) ?? {}) as CmpObject,
    exportArchive: async (input, out) => ({ ...(await operations.exportArchive(input, out)) }),
    importArchive: async (input, archive) => ({ ...(await operations.importArchive(input, archive)) }),
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
    async exportArchive(input, out) {
      let metadata: CmpObject = {};
      try {
        for await (const chunk of client.rpc.export(messageFromCmpJson(ExportRequestSchema, input))) {
          if (chunk.metadata) metadata = toJson(ExportMetadataSchema, chunk.metadata, { useProtoFieldName: true }) as CmpObject;
          if (chunk.data.length > 0 && !out.write(chunk.data)) await once(out, 'drain');
        }
      } catch (error) {
        out.destroy(error as Error);
        throw error;
      }
      out.end();
      await finished(out);
      return { ...metadata, size_bytes: Number(metadata.size_bytes ?? 0) };
    },
    async importArchive(input, archive) {
      const options = messageFromCmpJson(ImportOptionsSchema, input);
      async function* chunks() {
        yield create(ImportRequestSchema, { options });
        for await (const data of archive) yield create(ImportRequestSchema, { data });
      }
      const response = await client.rpc.import(chunks());
      return { records_imported: response.recordsImported };
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
  /**
   * Whether an in-process engine may create a missing data directory: for commands that store
   * memories. The others refuse with DataDirMissingError instead of turning a typo into a database.
   */
  createDataDir?: boolean;
}

/** A server given or found through the data directory's lock, else an in-process engine. */
export async function openEndpoint({ config, serverUrl, apiKey, timeoutMs, log, createDataDir = false }: OpenEndpointOptions): Promise<CmpEndpoint> {
  const url = serverUrl ?? (await lockHolder(config.data_dir))?.url;
  if (url !== undefined) return remoteEndpoint(url, { apiKey, timeoutMs });
  // The engine's own background jobs are for servers; a one-shot command should not start them.
  const oneShot: CerememoryConfig = {
    ...config,
    decay: { ...config.decay, background_enabled: false },
    dream: { ...config.dream, background_enabled: false },
  };
  const runtime = await startRuntime(oneShot, { log: log ?? (() => {}), createDataDir });
  return localEndpoint(runtime.operations, () => runtime.close());
}
