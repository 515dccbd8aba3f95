import { constants, existsSync, lstatSync, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { dominantEmotion, parseEmotionLabel } from '../../cmp/emotion.js';
import { isCmpError, type CmpCode } from '../../cmp/errors.js';
import { CONTEXT_FORMATS } from '../../cmp/operations.js';
import type { EmotionVector } from '../../cmp/types.js';
import { parseWith } from '../../cmp/zod-issues.js';
import type { CmpEndpoint, CmpObject } from '../endpoint.js';

// The MCP tools: the reference's 15 (docs inventory §3.4, parameters as implemented) plus set_mode,
// graph and decay_forecast, all on a CmpEndpoint so the same tools serve the in-process engine, the
// proxy to a running server and Streamable HTTP inside the server. A tool turns its flat, string-
// friendly parameters into one CMP request and answers with pretty-printed JSON.

export const SERVER_NAME = 'cerememory';

export const INSTRUCTIONS = [
  'Cerememory is a living memory for this agent: memories decay unless recalled, strengthen when used,',
  'link to each other and are digested from raw conversation into knowledge.',
  'Tools: store / batch_store (curated memories), store_raw / batch_store_raw (verbatim conversation),',
  'recall (search; no query lists recent memories), recall_raw, timeline, associate, graph, inspect, update,',
  'forget, dream_tick (raw → curated), consolidate (episodic → semantic), decay_forecast, set_mode, stats, export.',
  "Pass meta_json with the memory's why (intent, rationale, confidence, tags) whenever you know it.",
].join(' ');

/** CMP codes that mean "the caller's arguments are wrong" (JSON-RPC invalid params, spec §6.3). */
const INVALID_PARAMS_CODES: ReadonlySet<CmpCode> = new Set([
  'RECORD_NOT_FOUND', 'STORE_INVALID', 'CONTENT_TOO_LARGE', 'MODALITY_UNSUPPORTED', 'IMPORT_CONFLICT',
  'VALIDATION_ERROR', 'VERSION_MISMATCH', 'FORGET_UNCONFIRMED',
]);

/** Fixed texts for the conditions a caller can only wait out or fix outside the conversation. */
function fixedText(code: CmpCode, retryAfter: number | undefined): string | undefined {
  switch (code) {
    case 'RATE_LIMITED':
      return `Rate limited. Retry after ${retryAfter ?? 1} seconds.`;
    case 'UNAUTHORIZED':
      return 'Unauthorized';
    case 'STORE_UNAVAILABLE':
    case 'DECAY_ENGINE_BUSY':
    case 'CONSOLIDATION_IN_PROGRESS':
    case 'WORKING_MEMORY_FULL':
      return `${code}: busy. Retry after ${retryAfter ?? 1} seconds.`;
    default:
      return undefined;
  }
}

/** A CMP failure as the MCP error the caller sees (the SDK turns it into an `isError` tool result). */
export function toMcpError(error: unknown): McpError {
  if (error instanceof McpError) return error;
  if (isCmpError(error)) {
    if (INVALID_PARAMS_CODES.has(error.code)) return new McpError(ErrorCode.InvalidParams, `${error.code}: ${error.message}`);
    return new McpError(ErrorCode.InternalError, fixedText(error.code, error.retryAfter) ?? `${error.code}: ${error.message}`);
  }
  return new McpError(ErrorCode.InternalError, 'An internal error occurred');
}

function invalid(message: string): McpError {
  return new McpError(ErrorCode.InvalidParams, message);
}

// ── parameter helpers ──────────────────────────────────────────────────────────────────────────

const textBlock = (text: string) => ({ modality: 'text', format: 'text/plain', data: Buffer.from(text, 'utf8').toString('base64') });

function nonBlank(value: string, name: string): string {
  if (value.trim() === '') throw invalid(`${name} must not be empty`);
  return value;
}

/** "a, b ,c" → ["a","b","c"], lowercased where the values are enum names. */
function list(value: string | undefined, lowercase = true): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((item) => (lowercase ? item.trim().toLowerCase() : item.trim())).filter((item) => item !== '');
}

function enumValue<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (value === undefined) return undefined;
  const normalised = value.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(normalised)) throw invalid(`Invalid ${name} '${value}'. Valid options: ${allowed.join(', ')}`);
  return normalised as T;
}

function emotion(label: string | undefined): EmotionVector | undefined {
  if (label === undefined || label.trim() === '') return undefined;
  try {
    return parseEmotionLabel(label);
  } catch (error) {
    throw toMcpError(error);
  }
}

/** `meta_json` is a JSON string holding a MetaMemory; blank means none. The server validates the shape. */
function meta(metaJson: string | undefined): CmpObject | undefined {
  if (metaJson === undefined || metaJson.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metaJson);
  } catch (error) {
    throw invalid(`Invalid MetaMemory JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('Invalid MetaMemory payload: expected a JSON object');
  return parsed as CmpObject;
}

function clamp(value: number | undefined, fallback: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.trunc(value ?? fallback)));
}

function recordsJson(value: string): CmpObject[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw invalid(`records_json: invalid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed) || parsed.some((item) => item === null || typeof item !== 'object' || Array.isArray(item))) {
    throw invalid('records_json: expected a JSON array of objects');
  }
  return parsed as CmpObject[];
}

function timestamp(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (Number.isNaN(Date.parse(value))) throw invalid(`${name}: expected an RFC 3339 timestamp`);
  return new Date(value).toISOString();
}

/**
 * Where `export` may write. `caller`: the MCP process is the user's own (stdio), so paths resolve
 * against its working directory as the reference does. `folder`: the client is remote (Streamable
 * HTTP, issue 14 defect 4), so it names only a file, written inside this folder of the data directory.
 */
export type ExportPlace = { kind: 'caller' } | { kind: 'folder'; directory: string };

export interface McpServerOptions {
  /** Default `{ kind: 'caller' }`. */
  exports?: ExportPlace;
  /** Tools added after ours (the proxy's). */
  extraTools?: (server: McpServer) => void;
}

/**
 * The export path rules of the reference (spec §6.3): not blank, no `..`, names a file whose directory
 * exists; relative paths resolve against this process's directory. Over HTTP only a plain file name,
 * placed in the export folder. Create-new happens at open.
 */
function exportTarget(outputPath: string, place: ExportPlace): string {
  if (outputPath.trim() === '') throw invalid('output_path must not be empty');
  if (outputPath.split(/[\\/]/).includes('..')) throw invalid("output_path must not contain '..'");
  if (outputPath.endsWith('/') || outputPath.endsWith('\\')) throw invalid('output_path must name a file');
  if (place.kind === 'folder') {
    if (isAbsolute(outputPath) || /[\\/]/.test(outputPath) || outputPath.startsWith('.')) {
      throw invalid(`output_path: over HTTP, name a file only (e.g. "backup.cma"); it is written to ${place.directory}`);
    }
    mkdirSync(place.directory, { recursive: true, mode: 0o700 });
  }
  const target = place.kind === 'folder' ? join(place.directory, outputPath) : resolve(outputPath);
  let parent: string;
  try {
    parent = realpathSync(dirname(target));
  } catch {
    throw invalid(`output_path: directory ${dirname(target)} does not exist`);
  }
  const resolved = join(parent, basename(target));
  if (existsSync(resolved) || lstatExists(resolved)) throw invalid(`output_path: ${resolved} already exists; choose a new file`);
  return resolved;
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function firstText(content: { blocks?: { modality: string; data: string }[] } | undefined): string {
  const block = content?.blocks?.find((candidate) => candidate.modality === 'text');
  return block ? Buffer.from(block.data, 'base64').toString('utf8') : '[non-text content]';
}

const json = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }] });
const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

const RAW_SOURCES = ['conversation', 'tool_io', 'scratchpad', 'summary', 'imported'] as const;
const RAW_SPEAKERS = ['user', 'assistant', 'system', 'tool'] as const;
const RAW_VISIBILITIES = ['normal', 'private_scratch', 'sealed'] as const;
const SECRECY_LEVELS = ['public', 'sensitive', 'secret'] as const;
const GRANULARITIES = ['minute', 'hour', 'day', 'week', 'month'] as const;

const space = z.string().optional().describe('Memory space (tenant); default "default".');

// The fields of one memory, shared by the single tools' input schemas and the items of their batch
// variants: the SDK validates a tool's arguments, but a batch item arrives inside `records_json` and
// must be held to the same schema, or `null` and numbers reach the helpers below (issue 14, defect 10).
const curatedFields = {
  content: z.string().describe('The memory text.'),
  store: z.string().optional().describe('episodic | semantic | procedural | emotional | working'),
  emotion: z.string().optional().describe('An emotion label such as joy, fear, trust.'),
  meta_json: z.string().optional().describe('MetaMemory as a JSON string: intent, rationale, confidence, tags, …'),
};

const rawFields = {
  content: z.string(),
  session_id: z.string(),
  turn_id: z.string().optional(),
  topic_id: z.string().optional(),
  source: z.string().optional().describe('conversation (default) | tool_io | scratchpad | summary | imported'),
  speaker: z.string().optional().describe('user (default) | assistant | system | tool'),
  visibility: z.string().optional().describe('normal (default) | private_scratch | sealed'),
  secrecy_level: z.string().optional().describe('public (default) | sensitive | secret'),
  meta_json: z.string().optional(),
};

type CuratedItem = z.infer<z.ZodObject<typeof curatedFields>>;
type RawItem = z.infer<z.ZodObject<typeof rawFields>>;

/** The items of `records_json`, each held to `fields`; the first bad one is named (`records.2.emotion`). */
function batchItems<Shape extends z.ZodRawShape>(recordsJsonText: string, fields: Shape): z.infer<z.ZodObject<Shape>>[] {
  const schema = z.object(fields);
  try {
    return recordsJson(recordsJsonText).map((item, index) => parseWith(schema, item, `records.${index}`));
  } catch (error) {
    throw toMcpError(error);
  }
}

function rawItem(item: RawItem, where: string): CmpObject {
  return {
    session_id: nonBlank(item.session_id, `${where}session_id`),
    turn_id: item.turn_id ?? null,
    topic_id: item.topic_id ?? null,
    source: enumValue(item.source, RAW_SOURCES, `${where}source`) ?? 'conversation',
    speaker: enumValue(item.speaker, RAW_SPEAKERS, `${where}speaker`) ?? 'user',
    visibility: enumValue(item.visibility, RAW_VISIBILITIES, `${where}visibility`) ?? 'normal',
    secrecy_level: enumValue(item.secrecy_level, SECRECY_LEVELS, `${where}secrecy_level`) ?? 'public',
    content: { blocks: [textBlock(nonBlank(item.content, `${where}content`))] },
    ...(meta(item.meta_json) ? { meta: meta(item.meta_json) } : {}),
  };
}

function curatedItem(item: CuratedItem, where: string): CmpObject {
  return {
    content: { blocks: [textBlock(nonBlank(item.content, `${where}content`))] },
    ...(item.store === undefined ? {} : { store: item.store.trim().toLowerCase() }),
    ...(emotion(item.emotion) ? { emotion: emotion(item.emotion) } : {}),
    ...(meta(item.meta_json) ? { meta: meta(item.meta_json) } : {}),
  };
}

/** Every tool on `server`, each making its CMP call on `endpoint`. */
export function registerTools(server: McpServer, endpoint: CmpEndpoint, exports: ExportPlace = { kind: 'caller' }): void {
  function call(name: 'exportArchive', input: CmpObject, out: Writable): Promise<CmpObject>;
  function call(name: Parameters<CmpEndpoint['call']>[0], input: CmpObject): Promise<CmpObject>;
  async function call(name: string, input: CmpObject, out?: Writable): Promise<CmpObject> {
    try {
      return name === 'exportArchive' ? await endpoint.exportArchive(input, out!) : await endpoint.call(name as Parameters<CmpEndpoint['call']>[0], input);
    } catch (error) {
      throw toMcpError(error);
    }
  }

  server.registerTool(
    'store',
    {
      description: 'Store a curated memory (text). Without `store` the memory is classified automatically.',
      inputSchema: { ...curatedFields, space },
    },
    async (args) =>
      json(await call('encodeStore', { space: args.space, ...curatedItem(args, '') })),
  );

  server.registerTool(
    'store_raw',
    {
      description: 'Append a verbatim entry to the raw journal (conversation, tool I/O, scratchpad).',
      inputSchema: { ...rawFields, space },
    },
    async (args) => json(await call('encodeStoreRaw', { space: args.space, ...rawItem(args, '') })),
  );

  server.registerTool(
    'update',
    {
      description: 'Edit a memory: replace its text, its emotion or its meta-memory.',
      inputSchema: { record_id: z.string(), content: z.string().optional(), emotion: z.string().optional(), meta_json: z.string().optional(), space },
    },
    async (args) => {
      if (args.content === undefined && args.emotion === undefined && args.meta_json === undefined) {
        throw invalid("At least one of 'content', 'emotion', or 'meta_json' must be provided");
      }
      await call('encodeUpdate', {
        space: args.space,
        record_id: args.record_id,
        ...(args.content === undefined ? {} : { content: { blocks: [textBlock(nonBlank(args.content, 'content'))], summary: null } }),
        ...(emotion(args.emotion) ? { emotion: emotion(args.emotion) } : {}),
        ...(meta(args.meta_json) ? { meta: meta(args.meta_json) } : {}),
      });
      return text(`Updated record ${args.record_id}`);
    },
  );

  server.registerTool(
    'batch_store',
    {
      description: 'Store several curated memories at once and link related ones. records_json: [{"content", "store"?, "emotion"?, "meta_json"?}, …]',
      inputSchema: { records_json: z.string(), space },
    },
    async (args) =>
      json(
        await call('encodeBatch', {
          space: args.space,
          infer_associations: true,
          records: batchItems(args.records_json, curatedFields).map((item, index) => curatedItem(item, `records.${index}.`)),
        }),
      ),
  );

  server.registerTool(
    'batch_store_raw',
    {
      description: 'Append several raw journal entries. records_json: [{"content", "session_id", "speaker"?, …}, …]',
      inputSchema: { records_json: z.string(), space },
    },
    async (args) =>
      json(
        await call('encodeBatchStoreRaw', {
          space: args.space,
          records: batchItems(args.records_json, rawFields).map((item, index) => rawItem(item, `records.${index}.`)),
        }),
      ),
  );

  server.registerTool(
    'recall',
    {
      description: 'Search memories by meaning and words; without a query, list the most recent. Recalled memories are strengthened.',
      inputSchema: {
        query: z.string().optional(),
        limit: z.number().optional().describe('1..1000, default 10'),
        stores: z.string().optional().describe('Comma-separated stores; default all.'),
        reconsolidate: z.boolean().optional().describe('Strengthen what is recalled (default true).'),
        activation_depth: z.number().optional().describe('Spreading activation depth, default 2.'),
        format: z.string().optional().describe('claude | gpt | gemini: also return the memories as one prompt block for that model'),
        budget_tokens: z.number().optional().describe('Token budget of that block'),
        space,
      },
    },
    async (args) => {
      const format = enumValue(args.format, CONTEXT_FORMATS, 'format');
      const result = await call('recallQuery', {
        space: args.space,
        cue: args.query === undefined ? {} : { text: args.query },
        limit: clamp(args.limit, 10, 1, 1000),
        ...(list(args.stores) ? { stores: list(args.stores) } : {}),
        reconsolidate: args.reconsolidate ?? true,
        activation_depth: clamp(args.activation_depth, 2, 0, 8),
        recall_mode: 'perfect',
        ...(format === undefined ? {} : { format, ...(args.budget_tokens === undefined ? {} : { budget_tokens: args.budget_tokens }) }),
      });
      return json({
        memories: (result.memories as CmpObject[]).map(({ record, relevance_score }) => ({
          record_id: record.id,
          store: record.store,
          text: firstText(record.content),
          relevance_score,
          fidelity: record.fidelity?.score ?? 0,
          created_at: record.created_at,
          emotion: record.emotion ? dominantEmotion(record.emotion) : null,
        })),
        query_metadata: result.query_metadata,
        total_candidates: result.total_candidates,
        ...(result.context ? { context: result.context } : {}),
      });
    },
  );

  server.registerTool(
    'recall_raw',
    {
      description: 'Forensic search of the raw journal by session, words and time. Leaves out private scratch, sealed and secret entries unless asked.',
      inputSchema: {
        session_id: z.string().optional(),
        query: z.string().optional(),
        start: z.string().optional().describe('RFC 3339; with end'),
        end: z.string().optional().describe('RFC 3339; with start'),
        limit: z.number().optional(),
        include_private_scratch: z.boolean().optional(),
        include_sealed: z.boolean().optional(),
        secrecy_levels: z.string().optional().describe('Comma-separated: public, sensitive, secret'),
        space,
      },
    },
    async (args) => {
      if ((args.start === undefined) !== (args.end === undefined)) throw invalid('start and end must be given together');
      const result = await call('recallRawQuery', {
        space: args.space,
        session_id: args.session_id,
        query: args.query,
        ...(args.start === undefined ? {} : { temporal: { start: timestamp(args.start, 'start'), end: timestamp(args.end, 'end') } }),
        limit: clamp(args.limit, 10, 1, 1000),
        include_private_scratch: args.include_private_scratch ?? false,
        include_sealed: args.include_sealed ?? false,
        ...(list(args.secrecy_levels) ? { secrecy_levels: list(args.secrecy_levels) } : {}),
      });
      return json({
        records: (result.records as CmpObject[]).map((record) => ({
          record_id: record.id,
          session_id: record.session_id,
          source: record.source,
          speaker: record.speaker,
          visibility: record.visibility,
          secrecy_level: record.secrecy_level,
          text: firstText(record.content),
          created_at: record.created_at,
        })),
        total_candidates: result.total_candidates,
      });
    },
  );

  server.registerTool(
    'timeline',
    {
      description: 'Memories in time buckets (default: the last 7 days by hour).',
      inputSchema: { start: z.string().optional(), end: z.string().optional(), granularity: z.string().optional().describe(GRANULARITIES.join(' | ')), space },
    },
    async (args) => {
      const end = timestamp(args.end, 'end') ?? new Date().toISOString();
      const start = timestamp(args.start, 'start') ?? new Date(Date.parse(end) - 7 * 86_400_000).toISOString();
      if (Date.parse(start) > Date.parse(end)) throw invalid('start must not be after end');
      return json(await call('recallTimeline', { space: args.space, range: { start, end }, granularity: enumValue(args.granularity, GRANULARITIES, 'granularity') ?? 'hour' }));
    },
  );

  server.registerTool(
    'associate',
    {
      description: 'Walk the association graph from a memory.',
      inputSchema: { record_id: z.string(), depth: z.number().optional().describe('default 1, at most 8'), limit: z.number().optional().describe('default 10'), space },
    },
    async (args) =>
      json(await call('recallAssociate', { space: args.space, record_id: args.record_id, depth: args.depth ?? 1, limit: args.limit ?? 10, min_weight: 0 })),
  );

  server.registerTool(
    'graph',
    {
      description: 'The memory graph around a record (or a sample): nodes, edges and, with include_meta, meta-memory edges.',
      inputSchema: {
        center_id: z.string().optional(),
        depth: z.number().optional(),
        limit_nodes: z.number().optional(),
        edge_types: z.string().optional().describe('Comma-separated association types'),
        include_meta: z.boolean().optional(),
        space,
      },
    },
    async (args) =>
      json(
        await call('recallGraph', {
          space: args.space,
          center_id: args.center_id,
          depth: args.depth,
          limit_nodes: args.limit_nodes,
          ...(list(args.edge_types) ? { edge_types: list(args.edge_types) } : {}),
          include_meta: args.include_meta ?? false,
        }),
      ),
  );

  server.registerTool(
    'inspect',
    { description: 'A whole memory record: fidelity, emotion, associations, metadata, meta-memory.', inputSchema: { record_id: z.string(), space } },
    async (args) => {
      const result = await call('introspectRecord', {
        space: args.space, record_id: args.record_id, include_history: true, include_associations: true, include_versions: true,
      });
      return json(result);
    },
  );

  server.registerTool(
    'forget',
    {
      description: 'Delete memories for good. confirm must be true.',
      inputSchema: { record_ids: z.string().describe('Comma-separated record ids'), cascade: z.boolean().optional(), confirm: z.boolean(), space },
    },
    async (args) =>
      json(await call('forget', { space: args.space, record_ids: list(args.record_ids, false) ?? [], cascade: args.cascade ?? false, confirm: args.confirm })),
  );

  server.registerTool(
    'dream_tick',
    {
      description: 'Digest the raw journal into episodic summaries and semantic knowledge.',
      inputSchema: {
        session_id: z.string().optional(),
        dry_run: z.boolean().optional(),
        max_groups: z.number().optional(),
        promote_semantic: z.boolean().optional(),
        include_private_scratch: z.boolean().optional(),
        include_sealed: z.boolean().optional(),
        secrecy_levels: z.string().optional(),
        space,
      },
    },
    async (args) =>
      json(
        await call('dreamTick', {
          space: args.space,
          session_id: args.session_id,
          dry_run: args.dry_run ?? false,
          max_groups: args.max_groups ?? 10,
          promote_semantic: args.promote_semantic ?? true,
          include_private_scratch: args.include_private_scratch ?? false,
          include_sealed: args.include_sealed ?? false,
          ...(list(args.secrecy_levels) ? { secrecy_levels: list(args.secrecy_levels) } : {}),
        }),
      ),
  );

  server.registerTool(
    'consolidate',
    {
      description: 'Move mature episodic memories into semantic knowledge, merging near-duplicates.',
      inputSchema: { strategy: z.string().optional().describe('incremental (default) | full | selective'), dry_run: z.boolean().optional(), space },
    },
    async (args) =>
      json(
        await call('consolidate', {
          space: args.space,
          strategy: enumValue(args.strategy, ['incremental', 'full', 'selective'] as const, 'strategy') ?? 'incremental',
          dry_run: args.dry_run ?? false,
          min_age_hours: 0,
          min_access_count: 0,
        }),
      ),
  );

  server.registerTool(
    'decay_forecast',
    {
      description: 'How faded given memories will be at a future time, and when each crosses the prune threshold.',
      inputSchema: { record_ids: z.string().describe('Comma-separated record ids'), forecast_at: z.string().describe('RFC 3339'), space },
    },
    async (args) =>
      json(await call('decayForecast', { space: args.space, record_ids: list(args.record_ids, false) ?? [], forecast_at: timestamp(args.forecast_at, 'forecast_at') })),
  );

  server.registerTool(
    'set_mode',
    {
      description: 'Recall mode: human (fidelity shows as noise) or perfect (byte-exact), for all stores or a comma-separated scope.',
      inputSchema: { mode: z.string().describe('human | perfect'), scope: z.string().optional() },
    },
    async (args) => {
      const mode = enumValue(args.mode, ['human', 'perfect'] as const, 'mode');
      await call('setMode', { mode, ...(list(args.scope) ? { scope: list(args.scope) } : {}) });
      return text(`Recall mode set to ${mode}${list(args.scope) ? ` for ${list(args.scope)!.join(', ')}` : ''}`);
    },
  );

  server.registerTool(
    'export',
    {
      description: 'Write a CMA archive of every store and the raw journal to a new file (never overwrites), optionally encrypted.',
      inputSchema: {
        output_path: z
          .string()
          .describe(
            exports.kind === 'folder'
              ? `A new file name (no directory); the archive is written to ${exports.directory} on the server.`
              : 'A new file; its directory must exist. Relative paths are resolved against the MCP process directory.',
          ),
        format: z.string().optional().describe('cma (default) | jsonl (alias)'),
        encrypt: z.boolean().optional(),
        encryption_key: z.string().optional(),
        space,
      },
    },
    async (args) => {
      const target = exportTarget(args.output_path, exports);
      const format = enumValue(args.format, ['cma', 'jsonl'] as const, 'format') ?? 'cma';
      let file: FileHandle;
      try {
        // create-new: an existing file (or a symlink planted meanwhile) is never overwritten
        file = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      } catch (error) {
        throw invalid(`output_path: cannot create ${target}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
      const out = file.createWriteStream();
      const written = finished(out);
      try {
        const metadata = await call('exportArchive', {
          space: args.space, format, include_raw_journal: true, encrypt: args.encrypt ?? false,
          ...(args.encryption_key === undefined ? {} : { encryption_key: args.encryption_key }),
        }, out);
        await written;
        return text(`${JSON.stringify(metadata, null, 2)}\n\nArchive written to: ${target}\nArchive size: ${statSync(target).size} bytes`);
      } catch (error) {
        out.destroy();
        await written.catch(() => {});
        rmSync(target, { force: true });
        throw error;
      }
    },
  );

  server.registerTool(
    'stats',
    { description: 'Counts, average fidelity, associations, raw journal and background jobs.', inputSchema: { space } },
    async (args) => json(await call('stats', { space: args.space })),
  );
}

export function createMcpServer(endpoint: CmpEndpoint, version: string, options: McpServerOptions = {}): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  registerTools(server, endpoint, options.exports);
  options.extraTools?.(server);
  return server;
}
