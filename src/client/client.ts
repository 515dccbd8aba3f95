import { fromJson, toJson, type DescMessage, type DescMethod, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { randomUUID } from 'node:crypto';
import { ERROR_TABLE } from '../cmp/error-table.js';
import { CmpError, CMP_CODES, isCmpError, type CmpCode } from '../cmp/errors.js';
import { CerememoryService } from '../gen/cerememory/v1/cerememory_pb.js';

// The typed client for a running Cerememory server, over Connect (default), gRPC or gRPC-Web.
//
// Two ways to call:
// - one method per RPC with the generated message types: `client.rpc.encodeStore({ content: … })`;
// - `client.call('encodeStore', cmpJson)` with the CMP JSON shapes of the REST API, answered in CMP
//   JSON (what the MCP proxy and the CLI use), plus the helpers `store`, `recall`, `storeRaw`, … for
//   the everyday calls.
// Errors arrive as CmpError with the server's CMP code, whatever the protocol.

export type ClientProtocol = 'connect' | 'grpc' | 'grpc-web';

export interface CerememoryClientOptions {
  /** e.g. http://127.0.0.1:8420 */
  baseUrl: string;
  /** Default `connect`. gRPC always uses HTTP/2. */
  protocol?: ClientProtocol;
  /** Default `2` (h2c); `1.1` for Connect or gRPC-Web through proxies that only speak HTTP/1.1. */
  httpVersion?: '1.1' | '2';
  /** Connect and gRPC-Web only: protobuf binary instead of JSON on the wire. Default true. */
  binary?: boolean;
  /** Sent as `authorization: Bearer <key>`. */
  apiKey?: string;
  /** Per-call deadline in milliseconds; none by default. */
  timeoutMs?: number;
  /**
   * How often `call` (and the helpers) retries a retryable failure (server restarting, a store
   * restarting, rate limited). Safe for writes: each carries one idempotency key over all its attempts.
   * Default 5; 0 turns retrying off.
   */
  retries?: number;
  /** Waits between attempts (tests inject one). Default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * A ready Connect transport to use instead of one built from `baseUrl`, `protocol`, `httpVersion` and
   * `binary` (tests pass connect-es `createRouterTransport` to reach the service in process).
   */
  transport?: Transport;
}

/** The wait before attempt `attempt + 1`: the server's Retry-After when given, else 0.2 s doubling to 3 s. */
export function retryDelayMs(attempt: number, retryAfterSecs?: number): number {
  if (retryAfterSecs !== undefined && retryAfterSecs > 0) return Math.min(retryAfterSecs * 1000, 10_000);
  return Math.min(200 * 2 ** attempt, 3000);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The CMP request and response shapes are JSON objects (see the REST API). */
export type CmpJson = { [key: string]: unknown };

type Rpc = Client<typeof CerememoryService>;
export type RpcName = {
  [Name in keyof Rpc]: (typeof CerememoryService.method)[Name]['methodKind'] extends 'unary' ? Name : never;
}[keyof Rpc];

const TEXT_FORMAT = 'text/plain';

function textContent(text: string) {
  return { blocks: [{ modality: 'text', format: TEXT_FORMAT, data: Buffer.from(text, 'utf8').toString('base64') }] };
}

export class CerememoryClient {
  /** One method per RPC of `cerememory.v1.CerememoryService`, typed by the generated messages. */
  readonly rpc: Rpc;
  readonly #sessions: Http2SessionManager | undefined;
  readonly #retries: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: CerememoryClientOptions) {
    const { protocol = 'connect', httpVersion = '2', binary = true, apiKey, timeoutMs } = options;
    this.#retries = options.retries ?? 5;
    this.#sleep = options.sleep ?? defaultSleep;
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    const useHttp2 = options.transport === undefined && (protocol === 'grpc' || httpVersion === '2');
    this.#sessions = useHttp2 ? new Http2SessionManager(baseUrl) : undefined;
    const interceptors: Interceptor[] =
      apiKey === undefined
        ? []
        : [
            (next) => (request) => {
              request.header.set('authorization', `Bearer ${apiKey}`);
              return next(request);
            },
          ];
    const common = { baseUrl, interceptors, defaultTimeoutMs: timeoutMs, useBinaryFormat: binary };
    const transport: Transport =
      options.transport ??
      (protocol === 'grpc'
        ? createGrpcTransport({ ...common, sessionManager: this.#sessions })
        : protocol === 'grpc-web'
          ? useHttp2
            ? createGrpcWebTransport({ ...common, httpVersion: '2', sessionManager: this.#sessions })
            : createGrpcWebTransport({ ...common, httpVersion: '1.1' })
          : useHttp2
            ? createConnectTransport({ ...common, httpVersion: '2', sessionManager: this.#sessions })
            : createConnectTransport({ ...common, httpVersion: '1.1' }));
    const rpc = createClient(CerememoryService, transport);
    // The generated client, with CmpError instead of ConnectError.
    const wrapped: Record<string, unknown> = {};
    for (const method of CerememoryService.methods) {
      const call = (rpc as unknown as Record<string, (...args: unknown[]) => unknown>)[method.localName]!;
      wrapped[method.localName] =
        method.methodKind === 'unary' || method.methodKind === 'client_streaming'
          ? async (...args: unknown[]) => {
              try {
                return await call(...args);
              } catch (error) {
                throw toCmpError(error);
              }
            }
          : async function* (...args: unknown[]) {
              try {
                yield* call(...args) as AsyncIterable<unknown>;
              } catch (error) {
                throw toCmpError(error);
              }
            };
    }
    this.rpc = wrapped as unknown as Rpc;
  }

  /** A CMP operation with its JSON request (as the REST API takes it), answered in CMP JSON. */
  async call(name: RpcName, request: CmpJson = {}): Promise<CmpJson> {
    const method = CerememoryService.method[name] as DescMethod;
    // Every write gets an idempotency key (unless the caller chose one): a retry after a lost answer,
    // or after a crash cut a cross-store batch, is then completed by the server instead of repeated.
    const keyed = method.input.fields.some((field) => field.name === 'idempotency_key') && request.idempotency_key === undefined;
    const message = messageFromCmpJson(method.input, keyed ? { ...request, idempotency_key: randomUUID() } : request);
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await (this.rpc[name] as (message: unknown) => Promise<unknown>)(message);
        return toJson(method.output, response as never, { useProtoFieldName: true, alwaysEmitImplicit: true }) as CmpJson;
      } catch (error) {
        if (attempt >= this.#retries || !isCmpError(error) || !ERROR_TABLE[error.code].retryable) throw error;
        await this.#sleep(retryDelayMs(attempt, error.retryAfter));
      }
    }
  }

  // ── the everyday calls ──────────────────────────────────────────────────────────────────────────

  /** Stores a text memory; `store` unset lets the server classify it. */
  store(text: string, options: { store?: string; space?: string; emotion?: CmpJson; metadata?: unknown; meta?: CmpJson } = {}) {
    return this.call('encodeStore', { ...options, content: textContent(text) });
  }

  /** Recalls memories for a text cue (no text: the most recent ones). */
  recall(query?: string, options: { limit?: number; stores?: string[]; space?: string; recall_mode?: 'human' | 'perfect'; reconsolidate?: boolean } = {}) {
    return this.call('recallQuery', { ...options, cue: query === undefined ? {} : { text: query } });
  }

  /** Appends a verbatim entry to the raw journal. */
  storeRaw(text: string, options: { session_id: string; speaker?: string; source?: string; visibility?: string; secrecy_level?: string; turn_id?: string; topic_id?: string; space?: string }) {
    return this.call('encodeStoreRaw', {
      source: 'conversation',
      speaker: 'user',
      visibility: 'normal',
      secrecy_level: 'public',
      ...options,
      content: textContent(text),
    });
  }

  /** Searches the raw journal. */
  recallRaw(query?: string, options: { session_id?: string; limit?: number; space?: string; include_private_scratch?: boolean; include_sealed?: boolean; secrecy_levels?: string[] } = {}) {
    return this.call('recallRawQuery', { ...options, ...(query === undefined ? {} : { query }) });
  }

  /** Deletes records for good; `confirm: true` is the caller's explicit consent. */
  forget(recordIds: string[], options: { confirm: boolean; cascade?: boolean; space?: string }) {
    return this.call('forget', { ...options, record_ids: recordIds });
  }

  /** Digests the raw journal into episodic summaries and semantic knowledge. */
  dreamTick(options: { session_id?: string; dry_run?: boolean; max_groups?: number; space?: string } = {}) {
    return this.call('dreamTick', options);
  }

  stats(space?: string) {
    return this.call('stats', space === undefined ? {} : { space });
  }

  /** Closes the HTTP/2 connection, if any. */
  close(): void {
    this.#sessions?.abort();
  }
}

/** The protobuf message of a CMP JSON request; a request that does not fit is a VALIDATION_ERROR. */
export function messageFromCmpJson<Desc extends DescMessage>(schema: Desc, request: CmpJson): MessageShape<Desc> {
  try {
    // JSON has no undefined: an option left undefined ({ space: undefined }) means "not given"
    return fromJson(schema, JSON.parse(JSON.stringify(request)) as JsonValue, { ignoreUnknownFields: true });
  } catch (error) {
    throw new CmpError('VALIDATION_ERROR', `request: ${(error as Error).message}`, { cause: error });
  }
}

/** The server's CMP error from a Connect error (code header set by the server), else from the status. */
export function toCmpError(error: unknown): unknown {
  if (!(error instanceof ConnectError)) return error;
  const header = error.metadata.get('cerememory-error-code');
  const code: CmpCode = header !== null && (CMP_CODES as readonly string[]).includes(header) ? (header as CmpCode) : codeOfStatus(error.code);
  const retryAfter = Number(error.metadata.get('retry-after') ?? Number.NaN);
  return new CmpError(code, error.rawMessage, {
    cause: error,
    ...(Number.isFinite(retryAfter) ? { retryAfter } : {}),
    ...(error.metadata.get('cerememory-error-field') ? { field: error.metadata.get('cerememory-error-field')! } : {}),
  });
}

function codeOfStatus(code: Code): CmpCode {
  switch (code) {
    case Code.NotFound:
      return 'RECORD_NOT_FOUND';
    case Code.InvalidArgument:
      return 'VALIDATION_ERROR';
    case Code.Unauthenticated:
      return 'UNAUTHORIZED';
    case Code.PermissionDenied:
      return 'FORBIDDEN';
    // The server marks its rate limiting with the CMP code header; a bare one is the message-size limit.
    case Code.ResourceExhausted:
      return 'CONTENT_TOO_LARGE';
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return 'STORE_UNAVAILABLE';
    default:
      return 'INTERNAL_ERROR';
  }
}
