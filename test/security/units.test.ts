import { describe, expect, it } from 'vitest';
import { isCmpError } from '../../src/cmp/errors.js';
import { AUTH_MESSAGES, apiKeys, clientAddressResolver, isLoopback, RateLimiter } from '../../src/transports/security/index.js';

function thrown(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('apiKeys', () => {
  const keys = apiKeys(['first-key', 'second-key-that-is-longer']);

  it('accepts exactly "Bearer <key>" for any configured key', () => {
    expect(() => keys.check('Bearer first-key')).not.toThrow();
    expect(() => keys.check('Bearer second-key-that-is-longer')).not.toThrow();
  });

  it.each([
    ['missing', undefined, AUTH_MESSAGES.missingHeader],
    ['empty', '', AUTH_MESSAGES.missingHeader],
    ['wrong key', 'Bearer nope', AUTH_MESSAGES.invalid],
    ['a prefix of a key', 'Bearer first', AUTH_MESSAGES.invalid],
    ['lower-case scheme', 'bearer first-key', AUTH_MESSAGES.invalid],
    ['no scheme', 'first-key', AUTH_MESSAGES.invalid],
    ['trailing space', 'Bearer first-key ', AUTH_MESSAGES.invalid],
  ])('refuses %s with UNAUTHORIZED', (_name, header, message) => {
    const error = thrown(() => keys.check(header));
    expect(isCmpError(error) && error.code).toBe('UNAUTHORIZED');
    expect((error as Error).message).toBe(message);
    expect((error as Error).message).not.toContain('first-key');
  });

  it('uses the caller’s wording for a missing header (gRPC metadata)', () => {
    expect((thrown(() => keys.check(null, AUTH_MESSAGES.missingMetadata)) as Error).message).toBe('Missing authorization metadata');
  });

  it('never exposes the keys when inspected', () => {
    expect(JSON.stringify(keys)).not.toContain('first-key');
    expect(String(Object.values(keys))).not.toContain('first-key');
  });
});

describe('RateLimiter', () => {
  function limiter(options: { rps: number; burst: number }) {
    let now = 1_000_000;
    const rate = new RateLimiter({ requestsPerSecond: options.rps, burst: options.burst, now: () => now });
    return { rate, advance: (ms: number) => void (now += ms) };
  }

  it('allows a burst, then refuses with whole seconds until the next token plus one', () => {
    const { rate } = limiter({ rps: 2, burst: 3 });
    for (let i = 0; i < 3; i += 1) expect(rate.admit('a')).toEqual({ allowed: true });
    // Next token in 0.5 s: floor(0.5) + 1 = 1 (spec §6.1).
    expect(rate.admit('a')).toEqual({ allowed: false, retryAfterSecs: 1 });
  });

  it('refills at the configured rate, never above the burst', () => {
    const { rate, advance } = limiter({ rps: 2, burst: 3 });
    for (let i = 0; i < 3; i += 1) rate.admit('a');
    advance(500);
    expect(rate.admit('a').allowed).toBe(true);
    expect(rate.admit('a').allowed).toBe(false);
    advance(60_000);
    for (let i = 0; i < 3; i += 1) expect(rate.admit('a').allowed).toBe(true);
    expect(rate.admit('a').allowed).toBe(false);
  });

  it('gives a slow rate a long retry_after', () => {
    const { rate } = limiter({ rps: 0.1, burst: 1 });
    rate.admit('a');
    expect(rate.admit('a')).toEqual({ allowed: false, retryAfterSecs: 11 });
  });

  it('keeps clients apart: one emptying its bucket does not touch another', () => {
    const { rate } = limiter({ rps: 1, burst: 2 });
    for (let i = 0; i < 100; i += 1) rate.admit('greedy');
    expect(rate.admit('polite')).toEqual({ allowed: true });
    expect(rate.admit('polite')).toEqual({ allowed: true });
  });

  it('prunes buckets that have refilled, after 60 s', () => {
    const { rate, advance } = limiter({ rps: 10, burst: 5 });
    for (let i = 0; i < 50; i += 1) rate.admit(`client-${i}`);
    expect(rate.size).toBe(50);
    advance(30_000);
    rate.admit('late');
    expect(rate.size).toBe(51);
    advance(30_000);
    rate.admit('later');
    // Everyone but `later` had refilled (0.5 s at 10 rps) and is forgotten.
    expect(rate.size).toBe(1);
  });
});

describe('clientAddressResolver', () => {
  const headers = (values: Record<string, string>) => (name: string) => values[name];

  it('uses the socket peer when no proxy is trusted, ignoring forwarded headers', () => {
    const resolve = clientAddressResolver([]);
    expect(resolve('10.0.0.5', headers({ 'x-forwarded-for': '1.2.3.4' }))).toBe('10.0.0.5');
    expect(resolve('::ffff:10.0.0.5', headers({}))).toBe('10.0.0.5');
    expect(resolve(undefined, headers({}))).toBe('127.0.0.1');
  });

  it('reads X-Forwarded-For right to left, past trusted proxies, when the peer is trusted', () => {
    const resolve = clientAddressResolver(['10.0.0.0/8', '2001:db8::/32']);
    // The client wrote "6.6.6.6" itself; the proxy appended the address it saw (9.9.9.9).
    expect(resolve('10.0.0.1', headers({ 'x-forwarded-for': '6.6.6.6, 9.9.9.9, 10.1.1.1' }))).toBe('9.9.9.9');
    expect(resolve('::ffff:10.0.0.1', headers({ 'x-forwarded-for': '9.9.9.9' }))).toBe('9.9.9.9');
    expect(resolve('2001:db8::1', headers({ 'x-forwarded-for': '3FFF::7, 2001:db8::2' }))).toBe('3fff::7');
  });

  it('falls back to X-Real-IP, then to the peer', () => {
    const resolve = clientAddressResolver(['10.0.0.0/8']);
    expect(resolve('10.0.0.1', headers({ 'x-forwarded-for': '10.2.2.2, garbage', 'x-real-ip': '7.7.7.7' }))).toBe('7.7.7.7');
    expect(resolve('10.0.0.1', headers({ 'x-real-ip': 'not-an-ip' }))).toBe('10.0.0.1');
  });

  it('ignores forwarded headers from an untrusted peer', () => {
    const resolve = clientAddressResolver(['10.0.0.0/8']);
    expect(resolve('192.168.1.9', headers({ 'x-forwarded-for': '1.1.1.1', 'x-real-ip': '2.2.2.2' }))).toBe('192.168.1.9');
  });
});

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', 'localhost', '::ffff:127.0.0.1', '[::1]'])('%s is loopback', (address) => {
    expect(isLoopback(address)).toBe(true);
  });
  it.each(['0.0.0.0', '::', '10.0.0.1', '192.168.0.1', '::ffff:10.0.0.1', 'example.com'])('%s is not', (address) => {
    expect(isLoopback(address)).toBe(false);
  });
});
