import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { CONTEXT_FORMATS, RECALL_MODES } from '../../cmp/operations.js';
import { MAX_ASSOCIATE_DEPTH, MAX_RECALL_LIMIT, TIME_GRANULARITIES } from '../../cmp/request-schemas.js';
import type { CmpEndpoint, CmpObject } from '../endpoint.js';
import { batchItems, clamp, curatedFields, curatedItem, emotion, enumValue, list, meta, nonBlank, rawFields, rawItem, space, textBlock, timestamp } from './arguments.js';
import { invalid, toMcpError } from './errors.js';
import { exportTarget, writeExportFile, type ExportPlace } from './export-file.js';
import { json, rawRecallAnswer, recallAnswer, text } from './present.js';

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

export interface McpServerOptions {
  /** Default `{ kind: 'caller' }`. */
  exports?: ExportPlace;
  /** Tools added after ours (the proxy's). */
  extraTools?: (server: McpServer) => void;
}

/** What a tool's handler has: the CMP call on the endpoint (failures already MCP errors), and where exports go. */
interface ToolContext {
  call: CmpCall;
  exports: ExportPlace;
}

interface CmpCall {
  (name: 'exportArchive', input: CmpObject, out: Writable): Promise<CmpObject>;
  (name: Parameters<CmpEndpoint['call']>[0], input: CmpObject): Promise<CmpObject>;
}

interface ToolSpec<Shape extends z.ZodRawShape> {
  description: string;
  inputSchema: Shape;
}

/** One row of the tool table: registers its tool on a server, for a context. */
interface ToolRow {
  readonly name: string;
  register(server: McpServer, context: ToolContext): void;
}

/** A row: the tool's name, its spec (or one that depends on the context) and its handler. */
function tool<Shape extends z.ZodRawShape>(
  name: string,
  spec: ToolSpec<Shape> | ((context: ToolContext) => ToolSpec<Shape>),
  run: (args: z.infer<z.ZodObject<Shape>>, context: ToolContext) => Promise<CallToolResult>,
): ToolRow {
  return {
    name,
    register(server, context) {
      const { description, inputSchema } = typeof spec === 'function' ? spec(context) : spec;
      // The SDK validates the arguments against `inputSchema` before calling, so they have its shape.
      server.registerTool(name, { description, inputSchema }, ((args: z.infer<z.ZodObject<Shape>>) => run(args, context)) as never);
    },
  };
}

/** The tools, in the order `tools/list` gives them. */
const TOOLS: readonly ToolRow[] = [
  tool(
    'store',
    {
      description: 'Store a curated memory (text). Without `store` the memory is classified automatically.',
      inputSchema: { ...curatedFields, space },
    },
    async (args, { call }) => json(await call('encodeStore', { space: args.space, ...curatedItem(args, '') })),
  ),

  tool(
    'store_raw',
    {
      description: 'Append a verbatim entry to the raw journal (conversation, tool I/O, scratchpad).',
      inputSchema: { ...rawFields, space },
    },
    async (args, { call }) => json(await call('encodeStoreRaw', { space: args.space, ...rawItem(args, '') })),
  ),

  tool(
    'update',
    {
      description: 'Edit a memory: replace its text, its emotion or its meta-memory.',
      inputSchema: { record_id: z.string(), content: z.string().optional(), emotion: z.string().optional(), meta_json: z.string().optional(), space },
    },
    async (args, { call }) => {
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
  ),

  tool(
    'batch_store',
    {
      description: 'Store several curated memories at once and link related ones. records_json: [{"content", "store"?, "emotion"?, "meta_json"?}, …]',
      inputSchema: { records_json: z.string(), space },
    },
    async (args, { call }) =>
      json(
        await call('encodeBatch', {
          space: args.space,
          infer_associations: true,
          records: batchItems(args.records_json, curatedFields).map((item, index) => curatedItem(item, `records.${index}.`)),
        }),
      ),
  ),

  tool(
    'batch_store_raw',
    {
      description: 'Append several raw journal entries. records_json: [{"content", "session_id", "speaker"?, …}, …]',
      inputSchema: { records_json: z.string(), space },
    },
    async (args, { call }) =>
      json(
        await call('encodeBatchStoreRaw', {
          space: args.space,
          records: batchItems(args.records_json, rawFields).map((item, index) => rawItem(item, `records.${index}.`)),
        }),
      ),
  ),

  tool(
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
    async (args, { call }) => {
      const format = enumValue(args.format, CONTEXT_FORMATS, 'format');
      const result = await call('recallQuery', {
        space: args.space,
        cue: args.query === undefined ? {} : { text: args.query },
        limit: clamp(args.limit, 10, 1, MAX_RECALL_LIMIT),
        ...(list(args.stores) ? { stores: list(args.stores) } : {}),
        reconsolidate: args.reconsolidate ?? true,
        activation_depth: clamp(args.activation_depth, 2, 0, MAX_ASSOCIATE_DEPTH),
        recall_mode: 'perfect',
        ...(format === undefined ? {} : { format, ...(args.budget_tokens === undefined ? {} : { budget_tokens: args.budget_tokens }) }),
      });
      return recallAnswer(result);
    },
  ),

  tool(
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
    async (args, { call }) => {
      if ((args.start === undefined) !== (args.end === undefined)) throw invalid('start and end must be given together');
      const result = await call('recallRawQuery', {
        space: args.space,
        session_id: args.session_id,
        query: args.query,
        ...(args.start === undefined ? {} : { temporal: { start: timestamp(args.start, 'start'), end: timestamp(args.end, 'end') } }),
        limit: clamp(args.limit, 10, 1, MAX_RECALL_LIMIT),
        include_private_scratch: args.include_private_scratch ?? false,
        include_sealed: args.include_sealed ?? false,
        ...(list(args.secrecy_levels) ? { secrecy_levels: list(args.secrecy_levels) } : {}),
      });
      return rawRecallAnswer(result);
    },
  ),

  tool(
    'timeline',
    {
      description: 'Memories in time buckets (default: the last 7 days by hour).',
      inputSchema: { start: z.string().optional(), end: z.string().optional(), granularity: z.string().optional().describe(TIME_GRANULARITIES.join(' | ')), space },
    },
    async (args, { call }) => {
      const end = timestamp(args.end, 'end') ?? new Date().toISOString();
      const start = timestamp(args.start, 'start') ?? new Date(Date.parse(end) - 7 * 86_400_000).toISOString();
      if (Date.parse(start) > Date.parse(end)) throw invalid('start must not be after end');
      return json(await call('recallTimeline', { space: args.space, range: { start, end }, granularity: enumValue(args.granularity, TIME_GRANULARITIES, 'granularity') ?? 'hour' }));
    },
  ),

  tool(
    'associate',
    {
      description: 'Walk the association graph from a memory.',
      inputSchema: { record_id: z.string(), depth: z.number().optional().describe('default 1, at most 8'), limit: z.number().optional().describe('default 10'), space },
    },
    async (args, { call }) => json(await call('recallAssociate', { space: args.space, record_id: args.record_id, depth: args.depth ?? 1, limit: args.limit ?? 10, min_weight: 0 })),
  ),

  tool(
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
    async (args, { call }) =>
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
  ),

  tool('inspect', { description: 'A whole memory record: fidelity, emotion, associations, metadata, meta-memory.', inputSchema: { record_id: z.string(), space } }, async (args, { call }) => {
    const result = await call('introspectRecord', {
      space: args.space,
      record_id: args.record_id,
      include_history: true,
      include_associations: true,
      include_versions: true,
    });
    return json(result);
  }),

  tool(
    'forget',
    {
      description: 'Delete memories for good. confirm must be true.',
      inputSchema: { record_ids: z.string().describe('Comma-separated record ids'), cascade: z.boolean().optional(), confirm: z.boolean(), space },
    },
    async (args, { call }) => json(await call('forget', { space: args.space, record_ids: list(args.record_ids, false) ?? [], cascade: args.cascade ?? false, confirm: args.confirm })),
  ),

  tool(
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
    async (args, { call }) =>
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
  ),

  tool(
    'consolidate',
    {
      description: 'Move mature episodic memories into semantic knowledge, merging near-duplicates.',
      inputSchema: { strategy: z.string().optional().describe('incremental (default) | full | selective'), dry_run: z.boolean().optional(), space },
    },
    async (args, { call }) =>
      json(
        await call('consolidate', {
          space: args.space,
          strategy: enumValue(args.strategy, ['incremental', 'full', 'selective'] as const, 'strategy') ?? 'incremental',
          dry_run: args.dry_run ?? false,
          min_age_hours: 0,
          min_access_count: 0,
        }),
      ),
  ),

  tool(
    'decay_forecast',
    {
      description: 'How faded given memories will be at a future time, and when each crosses the prune threshold.',
      inputSchema: { record_ids: z.string().describe('Comma-separated record ids'), forecast_at: z.string().describe('RFC 3339'), space },
    },
    async (args, { call }) => json(await call('decayForecast', { space: args.space, record_ids: list(args.record_ids, false) ?? [], forecast_at: timestamp(args.forecast_at, 'forecast_at') })),
  ),

  tool(
    'set_mode',
    {
      description: 'Recall mode: human (fidelity shows as noise) or perfect (byte-exact), for all stores or a comma-separated scope.',
      inputSchema: { mode: z.string().describe('human | perfect'), scope: z.string().optional() },
    },
    async (args, { call }) => {
      const mode = enumValue(args.mode, RECALL_MODES, 'mode');
      await call('setMode', { mode, ...(list(args.scope) ? { scope: list(args.scope) } : {}) });
      return text(`Recall mode set to ${mode}${list(args.scope) ? ` for ${list(args.scope)!.join(', ')}` : ''}`);
    },
  ),

  tool(
    'export',
    ({ exports }) => ({
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
    }),
    async (args, { call, exports }) => {
      const target = exportTarget(args.output_path, exports);
      const format = enumValue(args.format, ['cma', 'jsonl'] as const, 'format') ?? 'cma';
      const { result: metadata, bytes } = await writeExportFile(target, (out) =>
        call(
          'exportArchive',
          {
            space: args.space,
            format,
            include_raw_journal: true,
            encrypt: args.encrypt ?? false,
            ...(args.encryption_key === undefined ? {} : { encryption_key: args.encryption_key }),
          },
          out,
        ),
      );
      return text(`${JSON.stringify(metadata, null, 2)}\n\nArchive written to: ${target}\nArchive size: ${bytes} bytes`);
    },
  ),

  tool('stats', { description: 'Counts, average fidelity, associations, raw journal and background jobs.', inputSchema: { space } }, async (args, { call }) =>
    json(await call('stats', { space: args.space })),
  ),
];

/** Every tool on `server`, each making its CMP call on `endpoint`. */
export function registerTools(server: McpServer, endpoint: CmpEndpoint, exports: ExportPlace = { kind: 'caller' }): void {
  const call = (async (name: string, input: CmpObject, out?: Writable): Promise<CmpObject> => {
    try {
      return name === 'exportArchive' ? await endpoint.exportArchive(input, out!) : await endpoint.call(name as Parameters<CmpEndpoint['call']>[0], input);
    } catch (error) {
      throw toMcpError(error);
    }
  }) as CmpCall;
  for (const row of TOOLS) row.register(server, { call, exports });
}

export function createMcpServer(endpoint: CmpEndpoint, version: string, options: McpServerOptions = {}): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  registerTools(server, endpoint, options.exports);
  options.extraTools?.(server);
  return server;
}
