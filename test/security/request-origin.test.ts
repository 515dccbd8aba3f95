import { describe, expect, it } from 'vitest';
import { requestOriginPolicy, type RequestOrigin } from '../../src/transports/security/request-origin.js';

// The front door's decision, as a table: which Host / Origin / Sec-Fetch-* combinations a default
// install answers, and which it refuses naming the header.

const request = (fields: Partial<RequestOrigin>): RequestOrigin => ({
  method: 'POST',
  host: '127.0.0.1:8420',
  origin: undefined,
  secFetchSite: undefined,
  secFetchMode: undefined,
  ...fields,
});

describe('requestOriginPolicy (defaults: no allowed hosts, no CORS origins)', () => {
  const policy = requestOriginPolicy({ allowedHosts: [], corsOrigins: [] });
  const cases: Array<[string, Partial<RequestOrigin>, 'host' | 'origin' | 'sec-fetch-site' | null]> = [
    ['curl / SDK: no Origin, loopback Host', {}, null],
    ['no Host at all (HTTP/1.0 tools)', { host: undefined }, null],
    ['localhost Host', { host: 'localhost:8420' }, null],
    ['IPv6 loopback Host', { host: '[::1]:8420' }, null],
    ['a LAN IP literal Host', { host: '192.168.1.20:8420' }, null],
    ['DNS rebinding name as Host', { host: 'rebind.attacker.example:8420' }, 'host'],
    ['garbage Host', { host: 'a b' }, 'host'],
    ['the console: same origin', { origin: 'http://127.0.0.1:8420' }, null],
    ['same host, other port (another local app)', { origin: 'http://127.0.0.1:3000' }, 'origin'],
    ['a web page', { origin: 'https://evil.example' }, 'origin'],
    ['sandboxed iframe / file page', { origin: 'null' }, 'origin'],
    ['no-Origin cross-site subresource', { method: 'GET', secFetchSite: 'cross-site', secFetchMode: 'no-cors' }, 'sec-fetch-site'],
    ['same-site (another localhost port) without Origin', { method: 'GET', secFetchSite: 'same-site', secFetchMode: 'cors' }, 'sec-fetch-site'],
    ['a link the user followed', { method: 'GET', secFetchSite: 'cross-site', secFetchMode: 'navigate' }, null],
    ['a cross-site form POST navigation', { method: 'POST', origin: 'https://evil.example', secFetchSite: 'cross-site', secFetchMode: 'navigate' }, 'origin'],
    ['typed in the address bar', { method: 'GET', secFetchSite: 'none', secFetchMode: 'navigate' }, null],
  ];
  it.each(cases)('%s', (_name, fields, refusedField) => {
    expect(policy.refusal(request(fields))?.field ?? null).toBe(refusedField);
  });

  it('names the setting that would allow the refused request', () => {
    expect(policy.refusal(request({ host: 'memory.lan:8420' }))!.message).toMatch(/http\.allowed_hosts/);
    expect(policy.refusal(request({ origin: 'https://app.example' }))!.message).toMatch(/http\.cors_origins/);
  });
});

describe('requestOriginPolicy (opened up)', () => {
  it('answers configured host names, exactly or by sub-domain, case-insensitively', () => {
    const policy = requestOriginPolicy({ allowedHosts: ['memory.lan', '*.example.test'], corsOrigins: [] });
    expect(policy.refusal(request({ host: 'Memory.LAN:8420' }))).toBeNull();
    expect(policy.refusal(request({ host: 'a.example.test' }))).toBeNull();
    expect(policy.refusal(request({ host: 'example.test' }))?.field).toBe('host');
    expect(policy.refusal(request({ host: 'memory.lan.attacker.example' }))?.field).toBe('host');
  });

  it('"*" answers any host', () => {
    expect(requestOriginPolicy({ allowedHosts: ['*'], corsOrigins: [] }).refusal(request({ host: 'anything.example' }))).toBeNull();
  });

  it('lets the listed CORS origins in, and with "*" any page', () => {
    const listed = requestOriginPolicy({ allowedHosts: [], corsOrigins: ['https://app.example'] });
    expect(listed.refusal(request({ origin: 'https://app.example' }))).toBeNull();
    expect(listed.refusal(request({ origin: 'https://other.example' }))?.field).toBe('origin');
    const any = requestOriginPolicy({ allowedHosts: [], corsOrigins: ['*'] });
    expect(any.refusal(request({ origin: 'https://other.example' }))).toBeNull();
    expect(any.refusal(request({ method: 'GET', secFetchSite: 'cross-site', secFetchMode: 'no-cors' }))).toBeNull();
  });
});
