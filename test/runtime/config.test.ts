import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, redactConfig, type LoadConfigOptions, type PartialDeep, type CerememoryConfig } from '../../src/runtime/config/index.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cerememory-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `toml` to a file in the temp dir and returns its path. */
function tomlFile(toml: string, name = 'config.toml'): string {
  const path = join(dir, name);
  writeFileSync(path, toml);
  return path;
}

/** loadConfig isolated from the real environment and cwd. */
function load(options: LoadConfigOptions = {}): CerememoryConfig {
  return loadConfig({ cwd: dir, env: {}, ...options });
}

function loadError(options: LoadConfigOptions): ConfigError {
  try {
    load(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('defaults', () => {
  it('loads the documented defaults with no file, env or flags', () => {
    const config = load();
    expect(config.http.port).toBe(8420);
    expect(config.http.bind_address).toBe('127.0.0.1');
    expect(config.auth).toEqual({ enabled: false, api_keys: [] });
    expect(config.data_dir).toBe(join(dir, 'data'));
    expect(config.cluster.mode).toBe('embedded');
    expect({ ...config, data_dir: defaultConfig.data_dir }).toEqual(defaultConfig);
  });

  it('weights the vector signal by the embedder: 0.6 for the semantic model, 0.4 for lexical, a set value kept', () => {
    expect(load().recall.vector_weight).toBe(0.5);
    expect(load({ env: { CEREMEMORY_EMBEDDING__PROVIDER: 'lexical' } }).recall.vector_weight).toBe(0.4);
    expect(load({ file: tomlFile('[embedding]\nprovider = "lexical"\n[recall]\nvector_weight = 0.7') }).recall.vector_weight).toBe(0.7);
    expect(loadError({ file: tomlFile('[recall]\nvector_weight = 1.5') }).issues.map((issue) => issue.path)).toEqual(['recall.vector_weight']);
  });

  it('embeds cues by the static query table unless embedding.query_vectors = "model"', () => {
    expect(load().embedding.query_vectors).toBe('static');
    expect(load({ file: tomlFile('[embedding]\nquery_vectors = "model"') }).embedding.query_vectors).toBe('model');
    expect(load({ env: { CEREMEMORY_EMBEDDING__QUERY_VECTORS: 'model' } }).embedding.query_vectors).toBe('model');
  });

  it('uses the DESIGN §2.1 decay exponent and initial stability per store', () => {
    const { stores } = load();
    const table = Object.fromEntries(
      (['working', 'episodic', 'emotional', 'semantic', 'procedural'] as const).map((name) => [name, [stores[name].decay_exponent, stores[name].initial_stability_secs, stores[name].prune_threshold]]),
    );
    expect(table).toEqual({
      working: [0.8, 600, 0.1],
      episodic: [0.3, 86_400, 0.01],
      emotional: [0.2, 259_200, 0.01],
      semantic: [0.15, 2_592_000, 0.01],
      procedural: [0.1, 7_776_000, 0.01],
    });
    expect(stores.working.capacity).toBe(7);
    expect(stores.raw_journal).not.toHaveProperty('decay_exponent');
    expect(stores.raw_journal.mailbox_limit).toBe(1024);
  });

  it('keeps defaultConfig frozen so no caller can change everyone’s defaults', () => {
    expect(Object.isFrozen(defaultConfig.stores.episodic.vector_index)).toBe(true);
    const config = load();
    config.http.port = 1;
    expect(defaultConfig.http.port).toBe(8420);
  });
});

describe('sources and precedence', () => {
  it('reads values from an explicit TOML file over the defaults', () => {
    const file = tomlFile(`
data_dir = "/var/lib/cerememory"
[http]
port = 9100
cors_origins = ["https://app.example"]
[stores.episodic]
decay_exponent = 0.25
[stores.episodic.vector_index]
ef_search = 128
`);
    const config = load({ file });
    expect(config.data_dir).toBe('/var/lib/cerememory');
    expect(config.http.port).toBe(9100);
    expect(config.http.cors_origins).toEqual(['https://app.example']);
    expect(config.stores.episodic.decay_exponent).toBe(0.25);
    expect(config.stores.episodic.vector_index).toEqual({ m: 16, ef_construction: 64, ef_search: 128, initial_capacity: 1024 });
    expect(config.stores.episodic.initial_stability_secs).toBe(86_400);
  });

  it('reads ./cerememory.toml from the cwd when no file is given', () => {
    tomlFile('[log]\nlevel = "debug"\n', 'cerememory.toml');
    expect(load().log.level).toBe('debug');
  });

  it('lets env override the TOML file', () => {
    const file = tomlFile('[http]\nport = 9100\nmetrics_enabled = false\n');
    const config = load({ file, env: { CEREMEMORY_HTTP__PORT: '9000', CEREMEMORY_HTTP__METRICS_ENABLED: 'true' } });
    expect(config.http.port).toBe(9000);
    expect(config.http.metrics_enabled).toBe(true);
  });

  it('lets flags override env, and ignores flags left undefined', () => {
    const config = load({
      env: { CEREMEMORY_HTTP__PORT: '9000', CEREMEMORY_DATA_DIR: '/from/env' },
      flags: { http: { port: 9200 }, data_dir: undefined },
    });
    expect(config.http.port).toBe(9200);
    expect(config.data_dir).toBe('/from/env');
  });

  it('maps nested env keys with "__" and coerces them by the schema', () => {
    const config = load({
      env: {
        CEREMEMORY_DATA_DIR: 'state',
        CEREMEMORY_STORES__EPISODIC__DECAY_EXPONENT: '0.25',
        CEREMEMORY_STORES__RAW_JOURNAL__MAILBOX_LIMIT: '64',
        CEREMEMORY_STORES__WORKING__VECTOR_INDEX__EF_SEARCH: '32',
        CEREMEMORY_LOG__FORMAT: 'json',
        CEREMEMORY_DECAY__BACKGROUND_ENABLED: 'FALSE',
      },
    });
    expect(config.data_dir).toBe(join(dir, 'state'));
    expect(config.stores.episodic.decay_exponent).toBe(0.25);
    expect(config.stores.raw_journal.mailbox_limit).toBe(64);
    expect(config.stores.working.vector_index.ef_search).toBe(32);
    expect(config.log.format).toBe('json');
    expect(config.decay.background_enabled).toBe(false);
  });

  it('splits comma lists for arrays, including the CEREMEMORY_AUTH_API_KEYS spelling', () => {
    const config = load({
      env: {
        CEREMEMORY_AUTH__ENABLED: 'true',
        CEREMEMORY_AUTH_API_KEYS: 'key-one, key-two,,',
        CEREMEMORY_HTTP__CORS_ORIGINS: 'https://a.example,http://localhost:3000',
        CEREMEMORY_HTTP_TRUSTED_PROXY_CIDRS: '10.0.0.0/8, ::1/128',
      },
    });
    expect(config.auth).toEqual({ enabled: true, api_keys: ['key-one', 'key-two'] });
    expect(config.http.cors_origins).toEqual(['https://a.example', 'http://localhost:3000']);
    expect(config.http.trusted_proxy_cidrs).toEqual(['10.0.0.0/8', '::1/128']);
  });

  it('rejects the same key set by both env spellings', () => {
    const error = loadError({ env: { CEREMEMORY_AUTH_API_KEYS: 'a', CEREMEMORY_AUTH__API_KEYS: 'b' } });
    expect(error.message).toContain('auth.api_keys');
    expect(error.message).toContain('CEREMEMORY_AUTH_API_KEYS');
  });

  it('ignores CEREMEMORY_* variables that belong to the MCP proxy and the recorder', () => {
    const config = load({ env: { CEREMEMORY_SERVER_API_KEY: 'k', CEREMEMORY_RECORDER_SPOOL_DIR: '/tmp/x' } });
    expect(config.http.port).toBe(8420);
  });

  it('accepts http.port 0 (random port) from flags only', () => {
    expect(load({ flags: { http: { port: 0 } } }).http.port).toBe(0);
    const error = loadError({ env: { CEREMEMORY_HTTP__PORT: '0' } });
    expect(error.message).toContain('config: http.port (from env CEREMEMORY_HTTP__PORT)');
  });
});

describe('data_dir', () => {
  it('expands "~/" with HOME', () => {
    const home = join(dir, 'home');
    expect(load({ env: { HOME: home, CEREMEMORY_DATA_DIR: '~/memories' } }).data_dir).toBe(join(home, 'memories'));
  });

  it('resolves a relative path against the cwd and keeps an absolute one', () => {
    expect(load({ flags: { data_dir: 'a/b' } }).data_dir).toBe(join(dir, 'a', 'b'));
    expect(load({ flags: { data_dir: '/srv/mem' } }).data_dir).toBe('/srv/mem');
  });
});

describe('unknown keys', () => {
  it('rejects an unknown key in the TOML file, naming it and the file', () => {
    const file = tomlFile('[http]\nprot = 9000\n');
    const error = loadError({ file });
    expect(error.message).toContain(`config: http.prot (from ${file}): unknown key "prot" (did you mean http.port?)`);
  });

  it('names cerememory.toml as the source when the default file is read', () => {
    tomlFile('colour = "blue"\n', 'cerememory.toml');
    expect(loadError({}).message).toContain('config: colour (from cerememory.toml): unknown key "colour"');
  });

  it('rejects an unknown env key, naming the variable and suggesting the "__" spelling', () => {
    const error = loadError({ env: { CEREMEMORY_HTTP_PORT: '9000' } });
    expect(error.message).toContain('config: http_port (from env CEREMEMORY_HTTP_PORT): unknown key "http_port" (did you mean CEREMEMORY_HTTP__PORT?)');
  });

  it('rejects an unknown key in flags', () => {
    const flags = { stores: { episodic: { decay: 0.2 } } } as unknown as PartialDeep<CerememoryConfig>;
    expect(loadError({ flags }).message).toContain('config: stores.episodic.decay (from flags): unknown key "decay"');
  });

  it('rejects decay settings on the raw journal, which never decays', () => {
    const file = tomlFile('[stores.raw_journal]\ndecay_exponent = 0.1\n');
    const error = loadError({ file });
    expect(error.message).toContain('stores.raw_journal.decay_exponent');
    expect(error.message).toContain('never decays');
  });
});

describe('validation rules', () => {
  // Each row: a TOML snippet breaking one rule, the key path the message must name, and a phrase of the rule.
  const rules: Array<[rule: string, toml: string, path: string, phrase: string]> = [
    ['data_dir is non-blank', 'data_dir = "  "', 'data_dir', 'non-blank'],
    ['http.port is at most 65535', '[http]\nport = 70000', 'http.port', 'an integer in 0..65535'],
    ['http.port is an integer', '[http]\nport = 80.5', 'http.port', 'an integer'],
    ['http.bind_address is an IP literal or localhost', '[http]\nbind_address = "my-host"', 'http.bind_address', 'IP address or "localhost"'],
    ['http.cors_origins entries are origins', '[http]\ncors_origins = ["https://ok.example", "not a url"]', 'http.cors_origins.1', 'origin'],
    ['http.trusted_proxy_cidrs IPv4 prefix is at most 32', '[http]\ntrusted_proxy_cidrs = ["10.0.0.0/33"]', 'http.trusted_proxy_cidrs.0', 'CIDR'],
    ['http.trusted_proxy_cidrs IPv6 prefix is at most 128', '[http]\ntrusted_proxy_cidrs = ["::/129"]', 'http.trusted_proxy_cidrs.0', 'CIDR'],
    ['http.trusted_proxy_cidrs entries have a prefix', '[http]\ntrusted_proxy_cidrs = ["10.0.0.1"]', 'http.trusted_proxy_cidrs.0', 'CIDR'],
    ['http.metrics_enabled is a boolean', '[http]\nmetrics_enabled = "yes"', 'http.metrics_enabled', 'true or false'],
    ['http.max_body_bytes is at least 1', '[http]\nmax_body_bytes = 0', 'http.max_body_bytes', 'an integer >= 1'],
    ['auth.enabled requires at least one key', '[auth]\nenabled = true', 'auth.enabled', 'at least one key'],
    ['auth.api_keys has no blank entries', '[auth]\napi_keys = ["k1", " "]', 'auth.api_keys.1', 'non-blank'],
    ['rate_limit.requests_per_second is > 0', '[rate_limit]\nrequests_per_second = 0', 'rate_limit.requests_per_second', 'a number > 0'],
    ['rate_limit.burst is > 0', '[rate_limit]\nburst = 0', 'rate_limit.burst', 'an integer >= 1'],
    ['log.level is a known level', '[log]\nlevel = "verbose"', 'log.level', 'expected one of "trace"'],
    ['log.format is pretty or json', '[log]\nformat = "xml"', 'log.format', 'expected one of "pretty", "json"'],
    ['decay.background_interval_secs is > 0', '[decay]\nbackground_interval_secs = 0', 'decay.background_interval_secs', 'a number > 0'],
    ['dream.background_interval_secs is > 0', '[dream]\nbackground_interval_secs = -1', 'dream.background_interval_secs', 'a number > 0'],
    ['recall.activation_decay_factor is in 0..1', '[recall]\nactivation_decay_factor = 1.5', 'recall.activation_decay_factor', '0..1'],
    ['recall.activation_threshold is in 0..1', '[recall]\nactivation_threshold = -0.1', 'recall.activation_threshold', '0..1'],
    ['recall.default_activation_depth is in 0..8', '[recall]\ndefault_activation_depth = 9', 'recall.default_activation_depth', '0..8'],
    ['recall.phrase_boost is in 0..4', '[recall]\nphrase_boost = 5', 'recall.phrase_boost', '0..4'],
    ['embedding.provider is local or openai_compatible', '[embedding]\nprovider = "openai"', 'embedding.provider', '"openai_compatible"'],
    ['embedding.api_key is required for gemini', '[embedding]\nprovider = "gemini"\nmodel = "text-embedding-004"', 'embedding.api_key', 'required when embedding.provider = "gemini"'],
    ['llm.provider is a known provider', '[llm]\nprovider = "claude"', 'llm.provider', '"anthropic"'],
    ['llm.model is required unless provider is none', '[llm]\nprovider = "openai_compatible"', 'llm.model', 'required when llm.provider = "openai_compatible"'],
    ['llm.api_key is required for anthropic', '[llm]\nprovider = "anthropic"\nmodel = "claude-sonnet-4-20250514"', 'llm.api_key', 'required when llm.provider = "anthropic"'],
    ['llm.base_url is an http(s) URL', '[llm]\nbase_url = "api.openai.com"', 'llm.base_url', 'http(s) URL'],
    ['llm.timeout_ms is >= 1', '[llm]\ntimeout_ms = 0', 'llm.timeout_ms', 'an integer >= 1'],
    ['llm.max_retries is in 0..10', '[llm]\nmax_retries = 11', 'llm.max_retries', '0..10'],
    ['embedding.dimension is in 16..4096', '[embedding]\ndimension = 8', 'embedding.dimension', '16..4096'],
    ['embedding.dimension is 512 for the local model', '[embedding]\ndimension = 256', 'embedding.dimension', 'must be 512 when embedding.provider = "local"'],
    ['embedding.base_url is required for openai_compatible', '[embedding]\nprovider = "openai_compatible"\nmodel = "m"', 'embedding.base_url', 'required when'],
    ['embedding.model is required for openai_compatible', '[embedding]\nprovider = "openai_compatible"\nbase_url = "http://localhost:11434/v1"', 'embedding.model', 'required when'],
    ['embedding.base_url is an http(s) URL', '[embedding]\nbase_url = "localhost:11434"', 'embedding.base_url', 'http(s) URL'],
    ['embedding.association_threshold is in 0..1', '[embedding]\nassociation_threshold = 2', 'embedding.association_threshold', '0..1'],
    ['embedding.query_vectors is static or model', '[embedding]\nquery_vectors = "dynamic"', 'embedding.query_vectors', 'expected one of "static", "model"'],
    [
      'runtime.restart_backoff_max_ms is >= the initial backoff',
      '[runtime]\nrestart_backoff_initial_ms = 500\nrestart_backoff_max_ms = 100',
      'runtime.restart_backoff_max_ms',
      '>= runtime.restart_backoff_initial_ms',
    ],
    ['runtime.call_timeout_ms is >= 1', '[runtime]\ncall_timeout_ms = 0', 'runtime.call_timeout_ms', 'an integer >= 1'],
    ['runtime.shutdown_timeout_ms is >= 1', '[runtime]\nshutdown_timeout_ms = -5', 'runtime.shutdown_timeout_ms', 'an integer >= 1'],
    ['runtime.sync_writes is a boolean', '[runtime]\nsync_writes = 1', 'runtime.sync_writes', 'true or false'],
    ['runtime.idempotency_ttl_secs is >= 1', '[runtime]\nidempotency_ttl_secs = 0', 'runtime.idempotency_ttl_secs', 'an integer >= 1'],
    ['a store decay_exponent is > 0', '[stores.episodic]\ndecay_exponent = 0', 'stores.episodic.decay_exponent', 'a number > 0'],
    ['a store decay_exponent is <= 5', '[stores.semantic]\ndecay_exponent = 6', 'stores.semantic.decay_exponent', '<= 5'],
    ['a store initial_stability_secs is > 0', '[stores.procedural]\ninitial_stability_secs = 0', 'stores.procedural.initial_stability_secs', 'a number > 0'],
    ['a store prune_threshold is in 0..1', '[stores.emotional]\nprune_threshold = 1.5', 'stores.emotional.prune_threshold', '0..1'],
    ['a store mailbox_limit is >= 1', '[stores.raw_journal]\nmailbox_limit = 0', 'stores.raw_journal.mailbox_limit', 'an integer >= 1'],
    ['a store log_retention_events is >= 0', '[stores.episodic]\nlog_retention_events = -1', 'stores.episodic.log_retention_events', 'an integer >= 0'],
    ['vector_index.m is in 2..128', '[stores.episodic.vector_index]\nm = 1', 'stores.episodic.vector_index.m', '2..128'],
    ['vector_index.ef_construction is >= 8', '[stores.episodic.vector_index]\nef_construction = 4', 'stores.episodic.vector_index.ef_construction', '>= 8'],
    ['vector_index.ef_search is >= 1', '[stores.episodic.vector_index]\nef_search = 0', 'stores.episodic.vector_index.ef_search', '>= 1'],
    ['vector_index.initial_capacity is >= 16', '[stores.episodic.vector_index]\ninitial_capacity = 8', 'stores.episodic.vector_index.initial_capacity', '>= 16'],
    ['working.capacity is in 1..1000', '[stores.working]\ncapacity = 1001', 'stores.working.capacity', '1..1000'],
    ['security.store_encryption_passphrase is non-blank', '[security]\nstore_encryption_passphrase = ""', 'security.store_encryption_passphrase', 'non-blank'],
    ['cluster.mode "nats" needs nats_urls', '[cluster]\nmode = "nats"', 'cluster.nats_urls', 'required when cluster.mode = "nats"'],
    ['a section is a table', 'http = 5', 'http', 'expected a table'],
  ];

  it.each(rules)('%s', (_rule, toml, path, phrase) => {
    const file = tomlFile(toml);
    const error = loadError({ file });
    expect(error.issues).toHaveLength(1);
    expect(error.message).toContain(`config: ${path} (from ${file}): `);
    expect(error.message).toContain(phrase);
  });

  it('reports a bad env value with the variable name and the value given', () => {
    const error = loadError({ env: { CEREMEMORY_STORES__EPISODIC__DECAY_EXPONENT: 'abc' } });
    expect(error.message).toBe('config: stores.episodic.decay_exponent (from env CEREMEMORY_STORES__EPISODIC__DECAY_EXPONENT): expected a number > 0 and <= 5, got "abc"');
  });

  it('cites the key that made another one required', () => {
    const error = loadError({ env: { CEREMEMORY_EMBEDDING__PROVIDER: 'openai_compatible' } });
    expect(error.message).toContain('config: embedding.base_url (from env CEREMEMORY_EMBEDDING__PROVIDER): required when');
  });

  it('never echoes a secret in an error', () => {
    const file = tomlFile('[security]\nstore_encryption_passphrase = 12345678\n[auth]\napi_keys = [987654321]\n');
    const error = loadError({ file });
    expect(error.message).toContain('security.store_encryption_passphrase');
    expect(error.message).toContain('auth.api_keys.0');
    expect(error.message).not.toContain('12345678');
    expect(error.message).not.toContain('987654321');
  });

  it('reports every issue from every source together, one per line', () => {
    const file = tomlFile('[http]\nport = 70000\nbogus = 1\n[log]\nlevel = "loud"\n');
    const error = loadError({
      file,
      env: { CEREMEMORY_RATE_LIMIT__BURST: 'many' },
      flags: { recall: { default_activation_depth: 99 } },
    });
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(5);
    expect(error.issues.map((issue) => [issue.path, issue.source])).toEqual(
      expect.arrayContaining([
        ['http.port', file],
        ['http.bogus', file],
        ['log.level', file],
        ['rate_limit.burst', 'env CEREMEMORY_RATE_LIMIT__BURST'],
        ['recall.default_activation_depth', 'flags'],
      ]),
    );
    for (const line of lines) expect(line).toMatch(/^config: /);
  });
});

describe('config files', () => {
  it('fails naming the path when an explicit file does not exist', () => {
    const missing = join(dir, 'nope.toml');
    const error = loadError({ file: 'nope.toml' });
    expect(error.message).toBe(`config: file ${missing}: not found`);
  });

  it('fails naming the path when the explicit file is a directory', () => {
    mkdirSync(join(dir, 'conf.d'));
    expect(loadError({ file: 'conf.d' }).message).toContain(`file ${join(dir, 'conf.d')}: is a directory`);
  });

  it('fails with the line and column of a TOML syntax error, still reporting other sources', () => {
    const file = tomlFile('[http]\nport = \n');
    const error = loadError({ file, env: { CEREMEMORY_LOG__LEVEL: 'loud' } });
    expect(error.message).toContain(`config: file ${file}: invalid TOML at line 2`);
    expect(error.message).toContain('log.level (from env CEREMEMORY_LOG__LEVEL)');
  });
});

describe('redactConfig', () => {
  it('hides API keys and passphrases and leaves the original untouched', () => {
    const config = load({
      flags: {
        auth: { enabled: true, api_keys: ['secret-1', 'secret-2'] },
        embedding: { provider: 'openai_compatible', base_url: 'https://api.example/v1', model: 'm', api_key: 'sk-abc' },
        llm: { provider: 'anthropic', model: 'claude-x', api_key: 'sk-ant-xyz' },
        security: { store_encryption_passphrase: 'hunter2' },
      },
    });
    const redacted = redactConfig(config);
    expect(redacted.llm.api_key).toBe('[REDACTED]');
    expect(JSON.stringify(redacted)).not.toContain('sk-ant-xyz');
    expect(redacted.auth.api_keys).toEqual(['[REDACTED]', '[REDACTED]']);
    expect(redacted.embedding.api_key).toBe('[REDACTED]');
    expect(redacted.security.store_encryption_passphrase).toBe('[REDACTED]');
    const text = JSON.stringify(redacted);
    for (const secret of ['secret-1', 'secret-2', 'sk-abc', 'hunter2']) expect(text).not.toContain(secret);
    expect(config.auth.api_keys).toEqual(['secret-1', 'secret-2']);
  });

  it('leaves unset secrets unset', () => {
    const redacted = redactConfig(load());
    expect(redacted.embedding.api_key).toBeUndefined();
    expect(redacted.security.store_encryption_passphrase).toBeUndefined();
  });
});

describe('cerememory.example.toml', () => {
  it('loads and states the defaults', async () => {
    const { loadConfig: load, defaultConfig: defaults } = await import('../../src/runtime/config/index.js');
    const { join: joinPath } = await import('node:path');
    const config = load({ env: {}, file: joinPath(import.meta.dirname, '../../cerememory.example.toml') });
    expect(config.stores).toEqual(defaults.stores);
    expect(config.http.port).toBe(defaults.http.port);
    expect(config.llm).toEqual(defaults.llm);
    expect(config.embedding).toEqual(defaults.embedding);
    expect(config.recall).toEqual(defaults.recall);
    // The passphrase is only in a comment: encryption at rest stays off by default.
    expect(config.security.store_encryption_passphrase).toBeUndefined();
  });
});
