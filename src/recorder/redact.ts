// Best-effort secret redaction for captured agent events (reference spec §9.3, docs inventory §2.1).
// Pure: text in, text out. A secret is replaced by `[REDACTED:<kind>]` so a reader of the raw journal
// can tell what was removed without seeing it. Rules run in order; each one skips values that are
// already a marker, so redacting twice changes nothing.

export type SecretKind =
  | 'private_key'
  | 'authorization'
  | 'bearer'
  | 'basic'
  | 'cookie'
  | 'api_key'
  | 'token'
  | 'secret'
  | 'password'
  | 'jwt'
  | 'aws_access_key'
  | 'openai_key'
  | 'github_token'
  | 'slack_token'
  | 'google_api_key'
  | 'npm_token'
  | 'gitlab_token'
  | 'stripe_key';

export const marker = (kind: SecretKind): string => `[REDACTED:${kind}]`;
const isMarker = (value: string): boolean => value.startsWith('[REDACTED');

/**
 * Credentials after `Bearer`/`Basic` look random; prose after those words ("basic understanding",
 * "bearer instruments") does not. Random means: a digit or base64 punctuation, or a capital letter
 * anywhere but first.
 */
function looksRandom(value: string): boolean {
  return /[0-9+/=_.~-]/.test(value) || /[A-Z]/.test(value.slice(1));
}

const SECRET_NAME =
  '(?:x[_-]?api[_-]?key|api[_-]?key|apikey|access[_-]?key[_-]?id|secret[_-]?access[_-]?key|access[_-]?key|' +
  'access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|session[_-]?token|client[_-]?secret|' +
  'private[_-]?key|secret[_-]?key|secret|token|password|passwd|pwd)';

function kindOfName(name: string): SecretKind {
  const key = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (key.endsWith('password') || key.endsWith('passwd') || key.endsWith('pwd')) return 'password';
  if (key.endsWith('privatekey')) return 'private_key';
  if (key.endsWith('apikey') || key.endsWith('accesskey') || key.endsWith('accesskeyid')) return 'api_key';
  if (key.endsWith('token')) return 'token';
  if (key.endsWith('cookie')) return 'cookie';
  if (key.endsWith('authorization') || key === 'auth') return 'authorization';
  return 'secret';
}

type Rule = (text: string) => string;

const rules: Rule[] = [
  // PEM private keys, whole blocks; a block cut off before its END line is redacted to the end.
  (text) =>
    text.replace(/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, marker('private_key')).replace(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*$/, marker('private_key')),
  // Header lines whose whole value is a credential: `Authorization: …`, `Cookie: …`, `X-Api-Key: …`.
  (text) =>
    text.replace(/\b((?:proxy-)?authorization|set-cookie|cookie|x-api-key|api-key)([ \t]*:[ \t]*)([^\r\n"'`]+)/gi, (whole, name: string, separator: string, value: string) => {
      if (isMarker(value.trim())) return whole;
      const lower = name.toLowerCase();
      const kind: SecretKind = lower.endsWith('cookie') ? 'cookie' : lower.endsWith('authorization') ? 'authorization' : 'api_key';
      // Keep the scheme word of an Authorization value so the journal still says what kind it was.
      const scheme = kind === 'authorization' ? (/^(bearer|basic|token|digest|negotiate)\s+/i.exec(value)?.[0] ?? '') : '';
      return `${name}${separator}${scheme}${marker(kind)}`;
    }),
  (text) => text.replace(/\b(bearer)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)/gi, (whole, word: string, space: string, value: string) => (looksRandom(value) ? `${word}${space}${marker('bearer')}` : whole)),
  (text) => text.replace(/\b(basic)(\s+)([A-Za-z0-9+/]{8,}={0,2})/gi, (whole, word: string, space: string, value: string) => (looksRandom(value) ? `${word}${space}${marker('basic')}` : whole)),
  // Passwords inside URLs: scheme://user:password@host.
  (text) => text.replace(/(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)@/gi, (whole, prefix: string, value: string) => (isMarker(value) ? whole : `${prefix}${marker('password')}@`)),
  // `NAME = value`, `"name": "value"`, `--password=value`: a secret-looking name, then `:` or `=`.
  // Any prefix is allowed (GITHUB_TOKEN, DB_PASSWORD, aws_secret_access_key); matches start only where
  // such a name can start, so a long run of name characters is scanned once, not once per character.
  // Quoted values of any
  // length, bare values of 4 characters or more ("token: 42" in prose is not a credential).
  (text) =>
    text.replace(
      new RegExp(`((?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]*?${SECRET_NAME})(["']?[ \\t]*[:=][ \\t]*)(?:"((?:[^"\\\\\\r\\n]|\\\\.)*)"|'([^'\\r\\n]*)'|([^\\s"',;&)}\\]]{4,}))`, 'gi'),
      (whole, name: string, separator: string, doubleQuoted?: string, singleQuoted?: string, bare?: string) => {
        const value = doubleQuoted ?? singleQuoted ?? bare ?? '';
        if (value === '' || isMarker(value)) return whole;
        const redacted = marker(kindOfName(name));
        if (doubleQuoted !== undefined) return `${name}${separator}"${redacted}"`;
        if (singleQuoted !== undefined) return `${name}${separator}'${redacted}'`;
        return `${name}${separator}${redacted}`;
      },
    ),
  // Well-known token shapes, wherever they appear.
  (text) =>
    text
      .replace(/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, marker('jwt'))
      .replace(/\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/g, marker('stripe_key'))
      .replace(/\bsk-[A-Za-z0-9_-]{16,}/g, marker('openai_key'))
      .replace(/\bsk_[A-Za-z0-9_-]{16,}/g, marker('api_key'))
      .replace(/\bgh[pousr]_[A-Za-z0-9]{20,}/g, marker('github_token'))
      .replace(/\bgithub_pat_[A-Za-z0-9_]{20,}/g, marker('github_token'))
      .replace(/\bglpat-[A-Za-z0-9_-]{20,}/g, marker('gitlab_token'))
      .replace(/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, marker('slack_token'))
      .replace(/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, marker('aws_access_key'))
      .replace(/\bAIza[0-9A-Za-z_-]{30,}/g, marker('google_api_key'))
      .replace(/\bnpm_[A-Za-z0-9]{36}\b/g, marker('npm_token')),
];

/** Redacts every secret the rules recognise in a piece of text. */
export function redactText(text: string): string {
  return rules.reduce((current, rule) => rule(current), text);
}

const SECRET_KEYS = new Set([
  'apikey',
  'xapikey',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'token',
  'auth',
  'authorization',
  'cookie',
  'setcookie',
  'password',
  'passwd',
  'pwd',
  'secret',
  'clientsecret',
  'privatekey',
  'accesskey',
  'secretaccesskey',
  'sessiontoken',
]);
const SECRET_KEY_SUFFIXES = ['secret', 'apikey', 'accesskey', 'token', 'password', 'passwd', 'authorization', 'cookie', 'privatekey'];

/** True for an object key whose value is a credential whatever it looks like (`api_key`, `GITHUB_TOKEN`). */
export function isSecretKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_KEYS.has(normalised) || SECRET_KEY_SUFFIXES.some((suffix) => normalised.endsWith(suffix));
}

/**
 * Redacts a JSON value: the value under a secret-named key is replaced whole (whatever its type,
 * unless null), every other string goes through `redactText`. Returns a new value.
 */
export function redactJson(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = inner !== null && isSecretKey(key) && !(typeof inner === 'string' && isMarker(inner)) ? marker(kindOfName(key)) : redactJson(inner);
    }
    return out;
  }
  return value;
}
