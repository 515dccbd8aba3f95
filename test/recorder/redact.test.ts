import { describe, expect, it } from 'vitest';
import { isSecretKey, redactJson, redactText } from '../../src/recorder/redact.js';

// Every secret here is fake, shaped like the real thing. For each: the secret part must be gone, a
// marker naming its kind must stand in its place, and the words around it must survive.

const secrets: { name: string; text: string; secret: string; kind: string }[] = [
  { name: 'Authorization header, bearer', text: 'Authorization: Bearer abcDEF123456789xyz', secret: 'abcDEF123456789xyz', kind: 'authorization' },
  { name: 'Authorization header inside curl', text: 'curl -H "Authorization: Basic dXNlcjpwYXNzd29yZA==" https://api.example.com', secret: 'dXNlcjpwYXNzd29yZA', kind: 'authorization' },
  { name: 'bearer token in prose', text: 'then I sent bearer 9f8e7d6c5b4a3210ffee to the proxy', secret: '9f8e7d6c5b4a3210ffee', kind: 'bearer' },
  { name: 'basic credential in prose', text: 'used Basic YWxhZGRpbjpvcGVuc2VzYW1l for it', secret: 'YWxhZGRpbjpvcGVuc2VzYW1l', kind: 'basic' },
  { name: 'x-api-key header', text: 'X-Api-Key: 0123456789abcdef0123', secret: '0123456789abcdef0123', kind: 'api_key' },
  { name: 'cookie header', text: 'Cookie: session=abc123def456; theme=dark', secret: 'abc123def456', kind: 'cookie' },
  { name: 'set-cookie header', text: 'Set-Cookie: sid=s%3Aq1w2e3r4t5y6; Path=/; HttpOnly', secret: 'q1w2e3r4t5y6', kind: 'cookie' },
  { name: 'env assignment of an API key', text: 'export OPENAI_API_KEY=not-a-known-shape-1234', secret: 'not-a-known-shape-1234', kind: 'api_key' },
  { name: 'env assignment of a token', text: 'GITLAB_TOKEN="zzTopSecretValue77"', secret: 'zzTopSecretValue77', kind: 'token' },
  { name: 'JSON password', text: '{"user": "bob", "password": "hunter2"}', secret: 'hunter2', kind: 'password' },
  { name: 'YAML client secret', text: 'client_secret: c0ffee-cafe-beef-42', secret: 'c0ffee-cafe-beef-42', kind: 'secret' },
  { name: 'CLI flag password', text: 'mysql --password=Tr0ub4dor&3 -u root', secret: 'Tr0ub4dor', kind: 'password' },
  { name: 'AWS secret access key', text: 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', secret: 'wJalrXUtnFEMI', kind: 'api_key' },
  { name: 'private key in config', text: "private_key: '5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3'", secret: '5KQwrPbwdL6Ph', kind: 'private_key' },
  { name: 'password in a URL', text: 'DATABASE_URL is postgres://admin:s3cretpw@db:5432/app', secret: 's3cretpw', kind: 'password' },
  { name: 'OpenAI key', text: 'key sk-proj-abcdefghijklmnop1234 works', secret: 'abcdefghijklmnop1234', kind: 'openai_key' },
  { name: 'Anthropic key', text: 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv', secret: 'AbCdEfGhIjKlMnOp', kind: 'openai_key' },
  { name: 'Stripe key', text: 'stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc', secret: '4eC39HqLyjWDarjtT1zdp7dc', kind: 'stripe_key' },
  { name: 'GitHub classic token', text: 'pushed with ghp_abcdefghijklmnopqrstuvwxyz0123456789', secret: 'ghp_abcdefghij', kind: 'github_token' },
  { name: 'GitHub fine-grained token', text: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop', secret: '11ABCDEFG0123456789', kind: 'github_token' },
  { name: 'GitLab token', text: 'glpat-xxxxXXXXyyyyYYYYzzzz', secret: 'xxxxXXXXyyyyYYYYzzzz', kind: 'gitlab_token' },
  { name: 'Slack token', text: 'slack xoxb-1234567890-abcdefghij', secret: '1234567890-abcdefghij', kind: 'slack_token' },
  { name: 'AWS access key id', text: 'aws AKIAIOSFODNN7EXAMPLE here', secret: 'AKIAIOSFODNN7EXAMPLE', kind: 'aws_access_key' },
  { name: 'Google API key', text: 'maps AIzaSyA1234567890abcdefghijklmnopqrstu ok', secret: 'SyA1234567890abcdef', kind: 'google_api_key' },
  { name: 'npm token', text: '//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789', secret: 'abcdefghijklmnopqrstuvwxyz0123456789', kind: 'token' },
  {
    name: 'JWT',
    text: 'id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end',
    secret: 'dozjgNryP4J3jVmNHl0w5N',
    kind: 'jwt',
  },
  {
    name: 'PEM private key block',
    text: 'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nq1w2e3r4\n-----END RSA PRIVATE KEY-----\nafter',
    secret: 'MIIEowIBAAKCAQEA7bq',
    kind: 'private_key',
  },
  {
    name: 'PEM private key cut off before its END line',
    text: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA',
    secret: 'b3BlbnNzaC1rZXktdjEAAAAA',
    kind: 'private_key',
  },
];

describe('redactText', () => {
  it.each(secrets)('removes $name', ({ text, secret, kind }) => {
    const redacted = redactText(text);
    expect(redacted).not.toContain(secret);
    expect(redacted).toContain(`[REDACTED:${kind}]`);
  });

  it('keeps the words around a secret', () => {
    expect(redactText('aws AKIAIOSFODNN7EXAMPLE here')).toBe('aws [REDACTED:aws_access_key] here');
    expect(redactText('{"user": "bob", "password": "hunter2"}')).toBe('{"user": "bob", "password": "[REDACTED:password]"}');
    expect(redactText('Authorization: Bearer abcDEF123456789xyz')).toBe('Authorization: Bearer [REDACTED:authorization]');
    expect(redactText('postgres://admin:s3cretpw@db:5432/app')).toBe('postgres://admin:[REDACTED:password]@db:5432/app');
  });

  it.each([
    'A basic understanding of bearer instruments helps.',
    'max_tokens=100 and the token count is 5; tokens: 42',
    'The password rule says twelve characters at least.',
    'I keep a secret diary.',
    'See https://example.com/path?q=1 and http://localhost:8420/health',
    'git commit -m "fix: sketch of the plan" && npm test',
    'Use the `sk-` prefix for keys; ghp_ tokens are GitHub ones.',
    'The session_id is demo and the turn_id is t-1.',
    'export PATH=/usr/local/bin:$PATH',
    'function authorize(user) { return user.role === "admin"; }',
  ])('leaves non-secrets alone: %s', (text) => {
    expect(redactText(text)).toBe(text);
  });

  it('is idempotent', () => {
    for (const { text } of secrets) {
      const once = redactText(text);
      expect(redactText(once)).toBe(once);
    }
  });
});

describe('redactText on the largest accepted event', () => {
  // Regression: a run like "a.a.a.…" used to be rescanned from every character by the assignment and
  // URL-password rules (quadratic: ~3 s for 32 KiB, minutes for 256 KiB). The timeout is a hang
  // guard, not a benchmark.
  it.each(['a.', 'a-', 'a_', 'a://b:', 'password: "\\', '-----BEGIN RSA PRIVATE KEY-----\n', 'eyJaaaaaaaaaa.'])('stays linear on 256 KiB of %j', { timeout: 10_000 }, (unit) => {
    const text = unit.repeat(Math.ceil((256 * 1024) / unit.length));
    expect(typeof redactText(text)).toBe('string');
  });
});

describe('redactJson', () => {
  it('replaces values under secret-named keys whatever their type, and redacts other strings', () => {
    const redacted = redactJson({
      api_key: 'plain',
      GITHUB_TOKEN: 12345,
      nested: { clientSecret: { a: 1 }, note: 'Authorization: Bearer abcDEF123456789xyz', list: ['sk-abcdefghijklmnop1234', 7, null, true] },
      headers: { Cookie: 'a=b', 'Set-Cookie': 'c=d', accept: 'application/json' },
      password: null,
      max_tokens: 100,
      token_count: 5,
    });
    expect(redacted).toEqual({
      api_key: '[REDACTED:api_key]',
      GITHUB_TOKEN: '[REDACTED:token]',
      nested: { clientSecret: '[REDACTED:secret]', note: 'Authorization: Bearer [REDACTED:authorization]', list: ['[REDACTED:openai_key]', 7, null, true] },
      headers: { Cookie: '[REDACTED:cookie]', 'Set-Cookie': '[REDACTED:cookie]', accept: 'application/json' },
      password: null,
      max_tokens: 100,
      token_count: 5,
    });
  });

  it('knows secret key names in any case and separator', () => {
    for (const key of ['apiKey', 'x-api-key', 'ACCESS_TOKEN', 'refresh-token', 'auth', 'Authorization', 'passwd', 'private_key', 'aws_secret_access_key', 'csrfToken']) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['max_tokens', 'token_count', 'author', 'secretary_name', 'keyboard', 'session_id', 'cookies_eaten']) {
      expect(isSecretKey(key), key).toBe(false);
    }
  });
});
