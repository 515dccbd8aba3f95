import { describe, expect, it } from 'vitest';
import { CaptureEventError, DedupeWindow, EVENT_TYPES, normaliseEvent, parseCaptureLine } from '../../src/recorder/capture-event.js';
import { checkServerUrl, ServerUrlError } from '../../src/recorder/ingest-client.js';
import { readLines } from '../../src/recorder/lines.js';

const text = (record: { content: { blocks: { data: string }[] } }) => Buffer.from(record.content.blocks[0].data, 'base64').toString('utf8');
const normalise = (event: Record<string, unknown>) => normaliseEvent(event, '/home/me/project');

describe('parseCaptureLine', () => {
  it('takes one JSON object', () => {
    expect(parseCaptureLine('{"session_id":"s"}')).toEqual({ session_id: 's' });
  });
  it.each(['{not json', '[1,2]', '"text"', 'null'])('refuses %s', (line) => {
    expect(() => parseCaptureLine(line)).toThrow(CaptureEventError);
  });
});

describe('normaliseEvent', () => {
  it('maps a user message with the defaults', () => {
    const { record, identity } = normalise({ session_id: ' demo ', event_type: 'user_message', content: 'hello recorder' });
    expect(record).toEqual({
      session_id: 'demo',
      turn_id: null,
      topic_id: null,
      source: 'conversation',
      speaker: 'user',
      visibility: 'normal',
      secrecy_level: 'sensitive',
      content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from('hello recorder').toString('base64') }] },
      metadata: { recorder: 'cerememory-recorder', event_type: 'user_message', recorder_cwd: '/home/me/project' },
    });
    expect(record).not.toHaveProperty('meta');
    expect(identity).toBeNull();
  });

  it.each([
    ['user_message', 'conversation', 'user'],
    ['assistant_message', 'conversation', 'assistant'],
    ['tool_call', 'tool_io', 'tool'],
    ['tool_result', 'tool_io', 'tool'],
    ['command', 'tool_io', 'tool'],
    ['file_change', 'tool_io', 'system'],
    ['session_summary', 'summary', 'system'],
    ['error', 'tool_io', 'system'],
  ])('%s → source %s, speaker %s', (eventType, source, speaker) => {
    const { record } = normalise({ session_id: 's', event_type: eventType, content: 'x' });
    expect(record).toMatchObject({ source, speaker });
  });

  it('covers every event type', () => {
    expect(EVENT_TYPES).toHaveLength(8);
  });

  it('keeps the optional fields: ids trimmed, source and timestamp in metadata, speaker and levels as given', () => {
    const { record, identity } = normalise({
      session_id: 's',
      event_type: 'tool_result',
      content: 'ok',
      turn_id: ' t1 ',
      topic_id: '  ',
      action_id: 'call-7',
      source: 'codex',
      speaker: 'system',
      timestamp: '2026-11-26T17:00:00.123Z',
      visibility: 'private_scratch',
      secrecy_level: 'public',
      metadata: { tool_name: 'shell', env: { API_KEY: 'abc' } },
      meta: { intent: 'check', password: 'x' },
    });
    expect(record).toMatchObject({ turn_id: 't1', topic_id: null, speaker: 'system', visibility: 'private_scratch', secrecy_level: 'public' });
    expect(record.metadata).toEqual({
      recorder: 'cerememory-recorder',
      event_type: 'tool_result',
      action_id: 'call-7',
      capture_source: 'codex',
      observed_at: '2026-11-26T17:00:00.123Z',
      recorder_cwd: '/home/me/project',
      capture_metadata: { tool_name: 'shell', env: { API_KEY: '[REDACTED:api_key]' } },
    });
    expect(record.meta).toEqual({ intent: 'check', password: '[REDACTED:password]' });
    expect(identity).toMatch(/^[0-9a-f]{64}$/);
  });

  it('redacts the content, and serialises non-string content as JSON after redacting its keys', () => {
    expect(text(normalise({ session_id: 's', event_type: 'command', content: 'curl -H "Authorization: Bearer abcDEF123456789xyz"' }).record)).toBe(
      'curl -H "Authorization: Bearer [REDACTED:authorization]"',
    );
    expect(text(normalise({ session_id: 's', event_type: 'tool_call', content: { cmd: 'ls', token: 'abc', n: 2 } }).record)).toBe('{"cmd":"ls","token":"[REDACTED:token]","n":2}');
  });

  it.each([
    [{ event_type: 'user_message', content: 'x' }, /session_id/],
    [{ session_id: '  ', event_type: 'user_message', content: 'x' }, /session_id/],
    [{ session_id: 's', content: 'x' }, /event_type: required/],
    [{ session_id: 's', event_type: 'chat', content: 'x' }, /event_type: must be one of/],
    [{ session_id: 's', event_type: 'error' }, /content: required/],
    [{ session_id: 's', event_type: 'error', content: '   ' }, /content: must not be blank/],
    [{ session_id: 's', event_type: 'error', content: 'x', speaker: 'robot' }, /speaker: must be one of/],
    [{ session_id: 's', event_type: 'error', content: 'x', visibility: 'public' }, /visibility/],
    [{ session_id: 's', event_type: 'error', content: 'x', secrecy_level: 'top' }, /secrecy_level/],
    [{ session_id: 's', event_type: 'error', content: 'x', timestamp: 'yesterday' }, /timestamp: must be an RFC 3339/],
    [{ session_id: 's', event_type: 'error', content: 'x', timestamp: '2026-13-45T99:00:00Z' }, /timestamp/],
    [{ session_id: 's', event_type: 'error', content: 'x', turn_id: 5 }, /turn_id: must be a string/],
  ])('refuses %j naming the field', (event, message) => {
    expect(() => normalise(event)).toThrow(message);
  });
});

describe('DedupeWindow', () => {
  const identity = (event: Record<string, unknown>) => normalise({ session_id: 's', event_type: 'user_message', ...event }).identity;

  it('drops only repeats with the same explicit identity and the same content', () => {
    const window = new DedupeWindow();
    expect(window.isDuplicate(identity({ content: 'hi', turn_id: 't1' }))).toBe(false);
    expect(window.isDuplicate(identity({ content: 'hi', turn_id: 't1' }))).toBe(true);
    expect(window.isDuplicate(identity({ content: 'hi again', turn_id: 't1' }))).toBe(false);
    expect(window.isDuplicate(identity({ content: 'hi', turn_id: 't2' }))).toBe(false);
    expect(window.isDuplicate(identity({ content: 'hi', timestamp: '2026-01-01T00:00:00Z' }))).toBe(false);
    expect(window.isDuplicate(identity({ content: 'hi', timestamp: '2026-01-01T00:00:00Z' }))).toBe(true);
    // No explicit identity: the same words twice are two events.
    expect(window.isDuplicate(identity({ content: 'hi' }))).toBe(false);
    expect(window.isDuplicate(identity({ content: 'hi' }))).toBe(false);
  });

  it('forgets the oldest identities past its capacity', () => {
    const window = new DedupeWindow(2);
    window.isDuplicate('a');
    window.isDuplicate('b');
    window.isDuplicate('c');
    expect(window.isDuplicate('a')).toBe(false);
    expect(window.isDuplicate('c')).toBe(true);
  });
});

describe('readLines', () => {
  async function* chunks(...parts: string[]) {
    for (const part of parts) yield Buffer.from(part);
  }
  const collect = async (source: AsyncIterable<Buffer>, max = 10) => {
    const lines = [];
    for await (const line of readLines(source, max)) lines.push(line);
    return lines;
  };

  it('splits across chunk boundaries and numbers lines', async () => {
    expect(await collect(chunks('ab', 'c\nde', '\n\nf'))).toEqual([
      { number: 1, text: 'abc' },
      { number: 2, text: 'de' },
      { number: 3, text: '' },
      { number: 4, text: 'f' },
    ]);
  });

  it('reports a line over the limit without keeping it, and goes on', async () => {
    expect(await collect(chunks('0123456789', 'abcdef\nok\n'))).toEqual([
      { number: 1, oversized: true, bytes: 16 },
      { number: 2, text: 'ok' },
    ]);
  });
});

describe('checkServerUrl', () => {
  it.each(['http://127.0.0.1:8420', 'http://localhost:8420/', 'http://[::1]:8420', 'https://memory.example.com'])('accepts %s', (url) => {
    expect(checkServerUrl(url)).toBe(url.replace(/\/$/, ''));
  });
  it.each([
    ['http://memory.example.com', /only to loopback/],
    ['http://10.0.0.5:8420', /only to loopback/],
    ['ftp://127.0.0.1', /http:\/\/ or https:\/\//],
    ['https://user:pw@example.com', /credentials/],
    ['https://example.com/?x=1', /query or fragment/],
    ['not a url', /not a URL/],
  ])('refuses %s', (url, message) => {
    expect(() => checkServerUrl(url)).toThrow(ServerUrlError);
    expect(() => checkServerUrl(url)).toThrow(message);
  });
});
