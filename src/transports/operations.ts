import type { Hippocampus } from '../actors/hippocampus/coordinator.js';
import {
  parseConsolidate, parseDecayForecast, parseDecayTick, parseDreamTick, parseEncodeBatch, parseEncodeBatchRaw, parseEncodeStore,
  parseEncodeStoreRaw, parseEncodeUpdate, parseForget, parseIntrospectRecord, parseRecallAssociate, parseRecallGraph, parseRecallQuery,
  parseRecallRaw, parseRecallTimeline, parseSetMode, parseStats,
} from '../cmp/requests.js';

// Every CMP operation once: how its wire JSON is parsed and which hippocampus call it makes. REST,
// Connect/gRPC, MCP and the CLI all go through this table, so an operation has one set of defaults,
// limits and errors whatever the transport (DESIGN §3). Names are the RPC names in lowerCamelCase,
// which is also what the generated Connect client calls them.

/**
 * `input` is the request's wire JSON; `pathRecordId` the record id of a REST path, which wins over
 * the body's (spec §6.1).
 */
type Operation<Result> = (hippocampus: Hippocampus, input: unknown, pathRecordId?: string) => Promise<Result>;

function operation<Result>(run: Operation<Result>): Operation<Result> {
  return run;
}

export const CMP_OPERATIONS = {
  encodeStore: operation((h, input) => h.encodeStore(parseEncodeStore(input))),
  encodeBatch: operation((h, input) => h.encodeBatch(parseEncodeBatch(input))),
  encodeStoreRaw: operation((h, input) => h.encodeStoreRaw(parseEncodeStoreRaw(input))),
  encodeBatchStoreRaw: operation((h, input) => h.encodeBatchRaw(parseEncodeBatchRaw(input))),
  encodeUpdate: operation(async (h, input, id) => {
    await h.encodeUpdate(parseEncodeUpdate(input, id));
    return {};
  }),
  recallQuery: operation((h, input) => h.recallQuery(parseRecallQuery(input))),
  recallRawQuery: operation((h, input) => h.recallRaw(parseRecallRaw(input))),
  recallAssociate: operation((h, input, id) => h.recallAssociate(parseRecallAssociate(input, id))),
  recallTimeline: operation((h, input) => h.recallTimeline(parseRecallTimeline(input))),
  recallGraph: operation((h, input) => h.recallGraph(parseRecallGraph(input))),
  consolidate: operation((h, input) => h.consolidate(parseConsolidate(input))),
  dreamTick: operation((h, input) => h.dreamTick(parseDreamTick(input))),
  decayTick: operation((h, input) => h.decayTick(parseDecayTick(input))),
  setMode: operation(async (h, input) => {
    const { mode, scope } = parseSetMode(input);
    h.setMode(mode, scope);
    return {};
  }),
  forget: operation((h, input) => h.forget(parseForget(input))),
  stats: operation((h, input) => h.stats(parseStats(input))),
  introspectRecord: operation((h, input, id) => h.introspectRecord(parseIntrospectRecord(input, id))),
  decayForecast: operation((h, input) => h.decayForecast(parseDecayForecast(input))),
  evolution: operation(async (h) => h.evolution()),
} as const;

export type OperationName = keyof typeof CMP_OPERATIONS;
export type OperationResult<Name extends OperationName> = Awaited<ReturnType<(typeof CMP_OPERATIONS)[Name]>>;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(CMP_OPERATIONS, name);
}
