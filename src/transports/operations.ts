import { Readable, type Writable } from 'node:stream';
import type { Hippocampus } from '../actors/hippocampus/coordinator.js';
import type { PreparedExport } from '../actors/hippocampus/archiver.js';
import type { AuditLog } from '../audit/audit-log.js';
import {
  consolidateAudit,
  decayTickAudit,
  dreamTickAudit,
  encodeBatchAudit,
  encodeBatchRawAudit,
  encodeStoreAudit,
  encodeStoreRawAudit,
  encodeUpdateAudit,
  exportAudit,
  forgetAudit,
  importAudit,
  recallQueryAudit,
  setModeAudit,
  type AuditRule,
} from '../audit/audit-rules.js';
import { CmpError } from '../cmp/errors.js';
import type { ExportResponse, ImportResponse } from '../cmp/operations.js';
import {
  parseConsolidate,
  parseDecayForecast,
  parseDecayTick,
  parseDreamTick,
  parseEncodeBatch,
  parseEncodeBatchRaw,
  parseEncodeStore,
  parseEncodeStoreRaw,
  parseEncodeUpdate,
  parseExport,
  parseForget,
  parseImport,
  parseIntrospectRecord,
  parseRecallAssociate,
  parseRecallGraph,
  parseRecallQuery,
  parseRecallRaw,
  parseRecallTimeline,
  parseSetMode,
  parseStats,
} from '../cmp/requests.js';

// Every CMP operation once: how its wire JSON is parsed, which hippocampus call it makes and what its
// audit entry says. REST, Connect/gRPC, MCP, the CLI and the background jobs all go through this table
// (issue 18, move 3: the only edge), so an operation has one set of defaults, limits, errors and audit
// entries whatever the transport (DESIGN §3). Names are the RPC names in lowerCamelCase, which is also
// what the generated Connect client calls them.
//
// Layers, each a typed wrapper over the table's calls on parsed requests (`OperationCalls`), never a
// patched method: `hippocampusCalls` (the rows' runs) → `auditedCalls` (the rows' audit rules) →, in
// cluster mode, `routedCalls` (src/cluster/routing.ts) → `operationsOver` (the rows' parsers): what
// the transports are given.

/** One operation: its parser, its run on the hippocampus, its audit rule (none: not audited). */
interface Row<Request, Result, Extra extends unknown[]> {
  /** `pathRecordId`: the record id of a REST path, which wins over the body's (spec §6.1). */
  parse(input: unknown, pathRecordId?: string): Request;
  run(hippocampus: Hippocampus, request: Request, ...extra: Extra): Promise<Result>;
  audit?: AuditRule<NoInfer<Request>, NoInfer<Result>>;
}

function row<Request, Result, Extra extends unknown[] = []>(definition: Row<Request, Result, Extra>): Row<Request, Result, Extra> {
  return definition;
}

/** Answers `{}`: the operations whose hippocampus call answers nothing (REST: 204). */
const NOTHING: Record<string, never> = {};

/** The unary operations, one per unary RPC of cerememory.v1.CerememoryService (connect/service.ts checks). */
export const CMP_OPERATIONS = {
  encodeStore: row({ parse: parseEncodeStore, run: (h, request) => h.encodeStore(request), audit: encodeStoreAudit }),
  encodeBatch: row({ parse: parseEncodeBatch, run: (h, request) => h.encodeBatch(request), audit: encodeBatchAudit }),
  encodeStoreRaw: row({ parse: parseEncodeStoreRaw, run: (h, request) => h.encodeStoreRaw(request), audit: encodeStoreRawAudit }),
  encodeBatchStoreRaw: row({ parse: parseEncodeBatchRaw, run: (h, request) => h.encodeBatchRaw(request), audit: encodeBatchRawAudit }),
  encodeUpdate: row({
    parse: parseEncodeUpdate,
    run: async (h, request) => {
      await h.encodeUpdate(request);
      return NOTHING;
    },
    audit: encodeUpdateAudit,
  }),
  recallQuery: row({ parse: parseRecallQuery, run: (h, request) => h.recallQuery(request), audit: recallQueryAudit }),
  recallRawQuery: row({ parse: parseRecallRaw, run: (h, request) => h.recallRaw(request) }),
  recallAssociate: row({ parse: parseRecallAssociate, run: (h, request) => h.recallAssociate(request) }),
  recallTimeline: row({ parse: parseRecallTimeline, run: (h, request) => h.recallTimeline(request) }),
  recallGraph: row({ parse: parseRecallGraph, run: (h, request) => h.recallGraph(request) }),
  consolidate: row({ parse: parseConsolidate, run: (h, request) => h.consolidate(request), audit: consolidateAudit }),
  dreamTick: row({ parse: parseDreamTick, run: (h, request) => h.dreamTick(request), audit: dreamTickAudit }),
  decayTick: row({ parse: parseDecayTick, run: (h, request) => h.decayTick(request), audit: decayTickAudit }),
  setMode: row({
    parse: parseSetMode,
    run: async (h, { mode, scope }) => {
      h.setMode(mode, scope);
      return NOTHING;
    },
    audit: setModeAudit,
  }),
  forget: row({ parse: parseForget, run: (h, request) => h.forget(request), audit: forgetAudit }),
  stats: row({ parse: parseStats, run: (h, request) => h.stats(request) }),
  introspectRecord: row({ parse: parseIntrospectRecord, run: (h, request) => h.introspectRecord(request) }),
  decayForecast: row({ parse: parseDecayForecast, run: (h, request) => h.decayForecast(request) }),
  evolution: row({ parse: () => NOTHING, run: async (h) => h.evolution() }),
} as const;

/**
 * The archive operations, whose bytes stream beside the request (spec §3.16, §3.17): export into a
 * sink as the archiver writes it, or staged first (`prepareExport`: gRPC's first chunk carries the
 * size and checksum); import from a byte stream, or from the request's own `archive_data` (REST).
 */
export const ARCHIVE_OPERATIONS = {
  exportArchive: row({ parse: parseExport, run: (h, request, out: Writable) => h.exportArchive(request, out), audit: exportAudit }),
  prepareExport: row({
    parse: parseExport,
    run: (h, request) => h.prepareExport(request),
    audit: { entry: (request, prepared) => exportAudit.entry(request, prepared.response) },
  }),
  importArchive: row({
    parse: parseImport,
    run: (h, { request, archive_data }, source?: AsyncIterable<Uint8Array>) => {
      if (source !== undefined) return h.importArchive(request, source);
      if (archive_data === null) throw new CmpError('VALIDATION_ERROR', 'Import requires archive_data', { field: 'archive_data' });
      return h.importArchive(request, Readable.from([archive_data]));
    },
    audit: { entry: ({ request }, result) => importAudit.entry(request, result) },
  }),
} as const;

const ROWS = { ...CMP_OPERATIONS, ...ARCHIVE_OPERATIONS };
type Rows = typeof ROWS;

export type OperationName = keyof typeof CMP_OPERATIONS;
export type CallName = keyof Rows;
export type RequestOf<Name extends CallName> = ReturnType<Rows[Name]['parse']>;
export type OperationResult<Name extends CallName> = Awaited<ReturnType<Rows[Name]['run']>>;
type ExtraOf<Name extends CallName> = Rows[Name]['run'] extends (h: Hippocampus, request: never, ...extra: infer Extra) => unknown ? Extra : never;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(CMP_OPERATIONS, name);
}

/** Every operation on its parsed request: what the audit and cluster routing wrap, and background jobs call. */
export type OperationCalls = {
  [Name in CallName]: (request: RequestOf<Name>, ...extra: ExtraOf<Name>) => Promise<OperationResult<Name>>;
};

type AnyCall = (request: unknown, ...extra: unknown[]) => Promise<unknown>;
type AnyRow = { run(h: Hippocampus, request: unknown, ...extra: unknown[]): Promise<unknown>; audit?: AuditRule<unknown, unknown> };
const rowOf = (name: CallName) => ROWS[name] as unknown as AnyRow;
const CALL_NAMES = Object.keys(ROWS) as CallName[];

/** The rows' runs on `hippocampus`. */
export function hippocampusCalls(hippocampus: Hippocampus): OperationCalls {
  const calls: Partial<Record<CallName, AnyCall>> = {};
  for (const name of CALL_NAMES) {
    const { run } = rowOf(name);
    calls[name] = function call(request, ...extra) {
      return run(hippocampus, request, ...extra);
    };
  }
  return calls as OperationCalls;
}

/**
 * `calls` with each audited operation's entry appended to `log` after it succeeded (reference spec
 * §8.2). The answer waits for the entry's flush unless its rule says `afterAnswer`; then a failed
 * append is only reported to `onError`.
 */
export function auditedCalls(calls: OperationCalls, log: Pick<AuditLog, 'append'>, onError: (line: string) => void): OperationCalls {
  const audited: Record<CallName, AnyCall> = { ...(calls as Record<CallName, AnyCall>) };
  for (const name of CALL_NAMES) {
    const rule = rowOf(name).audit;
    if (rule === undefined) continue;
    const inner = audited[name];
    audited[name] = async function audit(request, ...extra) {
      const result = await inner(request, ...extra);
      const event = rule.entry(request, result);
      if (event === undefined) return result;
      const appended = log.append(event);
      if (rule.afterAnswer) appended.catch((error: unknown) => onError(`audit: ${(error as Error).message}`));
      else await appended;
      return result;
    };
  }
  return audited as OperationCalls;
}

/** What the transports are given: every operation on its wire JSON, parsed by its row, then `calls`. */
export interface Operations {
  call<Name extends OperationName>(name: Name, input: unknown, pathRecordId?: string): Promise<OperationResult<Name>>;
  /** lifecycle.export into `out` (ended when complete); transports decide where the bytes go. */
  exportArchive(input: unknown, out: Writable): Promise<ExportResponse>;
  /** lifecycle.export with the metadata final before the bytes: see PreparedExport. */
  prepareExport(input: unknown): Promise<PreparedExport>;
  /** lifecycle.import from `source`, else from the request's `archive_data`; nothing is written unless all of it verifies. */
  importArchive(input: unknown, source?: AsyncIterable<Uint8Array>): Promise<ImportResponse>;
  /** The same calls on parsed requests (audited; routed in cluster mode). */
  readonly calls: OperationCalls;
}

export function operationsOver(calls: OperationCalls): Operations {
  const parsed = (name: CallName, input: unknown, pathRecordId?: string) => ROWS[name].parse(input, pathRecordId) as never;
  return {
    calls,
    call: (name, input, pathRecordId) => (calls[name] as AnyCall)(parsed(name, input, pathRecordId)) as never,
    exportArchive: (input, out) => calls.exportArchive(parsed('exportArchive', input), out),
    prepareExport: (input) => calls.prepareExport(parsed('prepareExport', input)),
    importArchive: (input, source) => calls.importArchive(parsed('importArchive', input), source),
  };
}
