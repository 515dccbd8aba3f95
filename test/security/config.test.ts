import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from '../../src/runtime/config/index.js';
import { removeDir, tempDataDir } from '../helpers/server.js';

// The security keys of the configuration (reference spec §9.2): what the example file says, and the
// environment spellings operators use for secrets.

const dir = tempDataDir();
afterAll(() => removeDir(dir));

describe('security configuration', () => {
  it('cerememory.example.toml states the security defaults', () => {
    const config = loadConfig({ env: {}, cwd: dir, file: join(import.meta.dirname, '../../cerememory.example.toml') });
    expect(config.auth).toEqual(defaultConfig.auth);
    expect(config.rate_limit).toEqual(defaultConfig.rate_limit);
    expect(config.security).toEqual(defaultConfig.security);
    expect(config.http.cors_origins).toEqual([]);
    expect(config.http.trusted_proxy_cidrs).toEqual([]);
    expect(config.http.bind_address).toBe('127.0.0.1');
  });

  it('CEREMEMORY_AUTH_API_KEYS (trimmed) replaces the keys of the file', () => {
    const file = join(dir, 'auth.toml');
    writeFileSync(file, '[auth]\nenabled = true\napi_keys = ["from-file"]\n');
    expect(loadConfig({ env: {}, cwd: dir, file }).auth.api_keys).toEqual(['from-file']);
    expect(loadConfig({ env: { CEREMEMORY_AUTH_API_KEYS: ' env-1 , env-2 ' }, cwd: dir, file }).auth.api_keys).toEqual(['env-1', 'env-2']);
  });

  it('a blank key is an error naming it, without echoing the other keys', () => {
    const file = join(dir, 'blank.toml');
    writeFileSync(file, '[auth]\nenabled = true\napi_keys = ["sekrit-value", "  "]\n');
    const message = (() => {
      try {
        loadConfig({ env: {}, cwd: dir, file });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain('auth.api_keys.1');
    expect(message).not.toContain('sekrit-value');
  });

  it('resolves security.audit_log_path against the working directory and refuses a blank one', () => {
    expect(loadConfig({ env: { CEREMEMORY_SECURITY__AUDIT_LOG_PATH: 'logs/audit.jsonl' }, cwd: dir }).security.audit_log_path).toBe(join(dir, 'logs/audit.jsonl'));
    expect(() => loadConfig({ env: { CEREMEMORY_SECURITY__AUDIT_LOG_PATH: ' ' }, cwd: dir })).toThrow(/security\.audit_log_path/);
  });
});
