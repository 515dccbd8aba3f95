// One valid request per REST route, the seeds the fuzz suite mutates. They write only to the space
// `fuzz`; the guarded spaces (`canary`, `vault`) are written once before the campaign and must be
// exactly the same after it, whatever was sent.

export const FUZZ_SPACE = 'fuzz';
export const GUARDED_SPACES = ['canary', 'vault'] as const;

const text = (value: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: [...Buffer.from(value, 'utf8')] }] });

export interface RestOperation {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: (ids: FuzzIds) => string;
  /** A valid request body (none for GET). */
  body?: (ids: FuzzIds) => Record<string, unknown>;
  /** Whether a success may change stored data (refusals never may). */
  mutating: boolean;
}

export interface FuzzIds {
  /** A record of the fuzz space. */
  record: string;
}

const space = { space: FUZZ_SPACE };
const rawItem = { session_id: 's-1', source: 'conversation', speaker: 'user', visibility: 'normal', secrecy_level: 'public', content: text('a raw turn') };

export const REST_OPERATIONS: RestOperation[] = [
  {
    name: 'encode',
    method: 'POST',
    path: () => '/v1/encode',
    mutating: true,
    body: () => ({ ...space, content: text('a memory about the lake'), store: 'episodic', emotion: { joy: 0.5 }, metadata: { tag: 'x' }, meta: { intent: 'test' }, context: { source: 'fuzz' } }),
  },
  {
    name: 'encode batch',
    method: 'POST',
    path: () => '/v1/encode/batch',
    mutating: true,
    body: () => ({
      ...space,
      records: [
        { content: text('one'), store: 'semantic' },
        { content: text('two'), metadata: { n: 2 } },
      ],
      infer_associations: false,
    }),
  },
  { name: 'encode raw', method: 'POST', path: () => '/v1/encode/raw', mutating: true, body: () => ({ ...space, ...rawItem }) },
  { name: 'encode raw batch', method: 'POST', path: () => '/v1/encode/raw/batch', mutating: true, body: () => ({ ...space, records: [rawItem, { ...rawItem, speaker: 'assistant' }] }) },
  {
    name: 'encode update',
    method: 'PATCH',
    path: (ids) => `/v1/encode/${ids.record}`,
    mutating: true,
    body: () => ({ ...space, content: text('updated'), emotion: { trust: 0.2 }, metadata: { v: 2 } }),
  },
  {
    name: 'recall query',
    method: 'POST',
    path: () => '/v1/recall/query',
    mutating: true,
    body: () => ({ ...space, cue: { text: 'lake', emotion: { joy: 0.1 } }, stores: ['episodic'], limit: 5, recall_mode: 'perfect', reconsolidate: false, activation_depth: 1 }),
  },
  { name: 'recall raw', method: 'POST', path: () => '/v1/recall/raw', mutating: false, body: () => ({ ...space, session_id: 's-1', query: 'turn', limit: 5 }) },
  { name: 'recall associate', method: 'POST', path: (ids) => `/v1/recall/associate/${ids.record}`, mutating: false, body: () => ({ ...space, depth: 2, min_weight: 0.1, limit: 5 }) },
  {
    name: 'recall timeline',
    method: 'POST',
    path: () => '/v1/recall/timeline',
    mutating: false,
    body: () => ({ ...space, range: { start: '2020-01-01T00:00:00Z', end: '2030-01-01T00:00:00Z' }, granularity: 'day' }),
  },
  { name: 'recall graph', method: 'POST', path: () => '/v1/recall/graph', mutating: false, body: (ids) => ({ ...space, center_id: ids.record, depth: 1, limit_nodes: 10 }) },
  { name: 'set mode', method: 'PUT', path: () => '/v1/lifecycle/mode', mutating: true, body: () => ({ ...space, mode: 'human', scope: ['episodic'] }) },
  { name: 'consolidate', method: 'POST', path: () => '/v1/lifecycle/consolidate', mutating: true, body: () => ({ ...space, strategy: 'incremental', dry_run: true }) },
  { name: 'dream tick', method: 'POST', path: () => '/v1/lifecycle/dream-tick', mutating: true, body: () => ({ ...space, dry_run: true, max_groups: 2 }) },
  // A zero-length tick changes nothing: the campaign checks that the guarded spaces stay exactly as they were.
  { name: 'decay tick', method: 'POST', path: () => '/v1/lifecycle/decay-tick', mutating: true, body: () => ({ ...space, tick_duration_seconds: 0 }) },
  { name: 'forget', method: 'DELETE', path: () => '/v1/lifecycle/forget', mutating: true, body: () => ({ ...space, record_ids: ['01a23abb-e678-71a2-a168-bd8d785047e1'], confirm: true }) },
  {
    name: 'decay forecast',
    method: 'POST',
    path: () => '/v1/introspect/decay-forecast',
    mutating: false,
    body: (ids) => ({ ...space, record_ids: [ids.record], forecast_at: '2030-01-01T00:00:00Z' }),
  },
  { name: 'export', method: 'POST', path: () => '/v1/lifecycle/export', mutating: false, body: () => ({ ...space, format: 'cma', include_raw_journal: false }) },
  { name: 'import', method: 'POST', path: () => '/v1/lifecycle/import', mutating: true, body: () => ({ ...space, archive_id: 'a', strategy: 'merge', archive_data: [123, 125] }) },
];
