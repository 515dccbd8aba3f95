import { describe, it, expect } from 'vitest';
import { neutralEmotion, parseEmotionLabel } from '../../src/cmp/emotion.js';
import {
  parseEncodeBatch,
  parseEncodeBatchRaw,
  parseEncodeStore,
  parseEncodeStoreRaw,
  parseEncodeUpdate,
  parseForget,
  parseExport,
  parseImport,
  parseIntrospectRecord,
  parseStats,
} from '../../src/cmp/requests.js';
import { cmpErrorOf } from './cmp-error.js';

const ID = '0190f0e0-1c2d-7e3f-8a4b-5c6d7e8f9a0b';
const ID2 = '0190f0e0-1c2d-7e3f-8a4b-5c6d7e8f9a0c';
const HI = [72, 105];
const HI_B64 = 'SGk=';
const textContent = (data: unknown = HI_B64) => ({ blocks: [{ modality: 'text', format: 'text/plain', data }] });
const MODALITY_LIST = 'text, image, audio, video, structured, spatial, temporal, interoceptive';

const META_DEFAULTS = {
  schema_version: 1,
  capture_status: 'legacy',
  intent: null,
  rationale: null,
  trigger: null,
  goals: [],
  evidence: [],
  assumptions: [],
  alternatives: [],
  decision: null,
  confidence: null,
  source_record_ids: [],
  parent_meta_ids: [],
  context_edges: [],
  tags: [],
  captured_at: null,
};

describe('every parser', () => {
  it.each([[null], [[]], ['text'], [42]])('rule: a non-object body (%j) is a VALIDATION_ERROR on "body"', (body) => {
    for (const parse of [parseEncodeStore, parseEncodeBatch, parseEncodeStoreRaw, parseEncodeBatchRaw, parseForget]) {
      const err = cmpErrorOf(() => parse(body));
      expect(err.code).toBe('VALIDATION_ERROR');
      expect(err.field).toBe('body');
    }
  });
});

describe('parseEncodeStore', () => {
  it('parses the reference wire example (appendix A), integer-array data as base64', () => {
    const request = parseEncodeStore({
      content: { blocks: [{ modality: 'text', format: 'text/plain', data: HI, embedding: null }], summary: null },
      store: null,
      emotion: { joy: 0.8, intensity: 0.8, valence: 0.9 },
      context: { source: 'chat', session_id: 's-1' },
      metadata: { tag: 'demo' },
      associations: [{ target_id: ID, association_type: 'causal', weight: 0.5 }],
      meta: { intent: 'remember greeting', tags: ['demo'], confidence: 0.9 },
    });
    expect(request).toEqual({
      space: 'default',
      content: { blocks: [{ modality: 'text', format: 'text/plain', data: HI_B64, embedding: null }], summary: null },
      store: null,
      emotion: { ...neutralEmotion(), joy: 0.8, intensity: 0.8, valence: 0.9 },
      context: { source: 'chat', session_id: 's-1', spatial: null, temporal: null },
      metadata: { tag: 'demo' },
      associations: [{ target_id: ID, association_type: 'causal', weight: 0.5 }],
      meta: { ...META_DEFAULTS, intent: 'remember greeting', tags: ['demo'], confidence: 0.9 },
    });
  });

  it('round-trip: integer-array data and base64 data give the same request', () => {
    const bytes = [...Buffer.from('héllo, wörld ✓', 'utf8')];
    expect(parseEncodeStore({ content: textContent(bytes) })).toEqual(parseEncodeStore({ content: textContent(Buffer.from(bytes).toString('base64')) }));
  });

  it('normalises unpadded base64 to canonical base64', () => {
    expect(parseEncodeStore({ content: textContent('SGk') }).content.blocks[0].data).toBe(HI_B64);
  });

  it('applies the defaults of §3.1 to absent fields', () => {
    expect(parseEncodeStore({ content: textContent() })).toEqual({
      space: 'default',
      content: { blocks: [{ modality: 'text', format: 'text/plain', data: HI_B64, embedding: null }], summary: null },
      store: null,
      emotion: null,
      context: null,
      metadata: null,
      associations: [],
      meta: null,
    });
  });

  it('treats explicit nulls like absent fields', () => {
    const request = parseEncodeStore({ content: textContent(), store: null, associations: null, meta: null, space: null });
    expect(request).toMatchObject({ space: 'default', associations: [], meta: null });
  });

  it('ignores unknown fields', () => {
    const request = parseEncodeStore({ content: { ...textContent(), extra: 1 }, whatever: true, header: { protocol: 'cmp', version: '1.0' } });
    expect(request).toEqual(parseEncodeStore({ content: textContent() }));
  });

  it('rule: content is required', () => {
    const err = cmpErrorOf(() => parseEncodeStore({}));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('content');
    expect(err.message).toBe('content: is required');
  });

  it('rule: a block modality must be one of the eight modalities', () => {
    const err = cmpErrorOf(() => parseEncodeStore({ content: { blocks: [{ modality: 'smell', format: 'f', data: [] }] } }));
    expect(err.field).toBe('content.blocks.0.modality');
    expect(err.message).toBe(`content.blocks.0.modality: expected one of ${MODALITY_LIST}`);
  });

  it('rule: a block format is required', () => {
    const err = cmpErrorOf(() => parseEncodeStore({ content: { blocks: [{ modality: 'text', data: HI }] } }));
    expect(err.field).toBe('content.blocks.0.format');
  });

  it('rule: block data is required', () => {
    const err = cmpErrorOf(() => parseEncodeStore({ content: { blocks: [{ modality: 'text', format: 'f' }] } }));
    expect(err.field).toBe('content.blocks.0.data');
    expect(err.message).toBe('content.blocks.0.data: is required');
  });

  it.each([[256], [-1], [1.5], ['7']])('rule: data bytes are integers 0-255 (%j)', (bad) => {
    const err = cmpErrorOf(() => parseEncodeStore({ content: textContent([72, bad]) }));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('content.blocks.0.data.1');
  });

  it.each([['not base64!'], ['SGk=x'], ['S']])('rule: string data must be base64 (%j)', (bad) => {
    const err = cmpErrorOf(() => parseEncodeStore({ content: textContent(bad) }));
    expect(err.field).toBe('content.blocks.0.data');
  });

  it('rule: data of another type is refused', () => {
    expect(cmpErrorOf(() => parseEncodeStore({ content: textContent({ bytes: [1] }) })).field).toBe('content.blocks.0.data');
  });

  it('rule: content needs at least one block', () => {
    const err = cmpErrorOf(() => parseEncodeStore({ content: { blocks: [] } }));
    expect(err.field).toBe('content.blocks');
    expect(err.message).toBe('content.blocks: must have at least one content block');
  });

  it('rule: an oversized block is CONTENT_TOO_LARGE naming the data field', () => {
    const big = Buffer.alloc(1_048_577, 0x61).toString('base64');
    const err = cmpErrorOf(() => parseEncodeStore({ content: textContent(big) }));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.field).toBe('content.blocks.0.data');
    expect(err.message).toBe('content.blocks.0.data: 1048577 bytes exceeds 1048576');
  });

  it('rule: text blocks must be UTF-8', () => {
    expect(cmpErrorOf(() => parseEncodeStore({ content: textContent([0xff]) })).field).toBe('content.blocks.0.data');
  });

  it('rule: an embedding must not be empty', () => {
    const content = { blocks: [{ modality: 'text', format: 'f', data: HI, embedding: [] }] };
    expect(cmpErrorOf(() => parseEncodeStore({ content })).field).toBe('content.blocks.0.embedding');
  });

  it('rule: embedding entries are numbers', () => {
    const content = { blocks: [{ modality: 'text', format: 'f', data: HI, embedding: [0.1, 'x'] }] };
    expect(cmpErrorOf(() => parseEncodeStore({ content })).field).toBe('content.blocks.0.embedding.1');
  });

  it('rule: store is matched exactly lowercase; anything else is STORE_INVALID', () => {
    expect(parseEncodeStore({ content: textContent(), store: 'semantic' }).store).toBe('semantic');
    const err = cmpErrorOf(() => parseEncodeStore({ content: textContent(), store: 'Episodic' }));
    expect(err.code).toBe('STORE_INVALID');
    expect(err.field).toBe('store');
    expect(err.message).toBe('Invalid store: Episodic');
  });

  it('accepts an emotion label', () => {
    expect(parseEncodeStore({ content: textContent(), emotion: ' Sad ' }).emotion).toEqual(parseEmotionLabel('sad'));
  });

  it('rule: an unknown emotion label uses the reference text on field "emotion"', () => {
    const err = cmpErrorOf(() => parseEncodeStore({ content: textContent(), emotion: 'meh' }));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('emotion');
    expect(err.message).toBe('Invalid emotion label: meh. Use one of: joy, trust, fear, surprise, sadness, disgust, anger, anticipation');
  });

  it('rule: emotion dimensions are numbers', () => {
    const err = cmpErrorOf(() => parseEncodeStore({ content: textContent(), emotion: { joy: 'lots' } }));
    expect(err.field).toBe('emotion.joy');
    expect(err.message).toBe('emotion.joy: expected number, received string');
  });

  it('rule: emotion is an object or a label', () => {
    expect(cmpErrorOf(() => parseEncodeStore({ content: textContent(), emotion: 3 })).field).toBe('emotion');
  });

  it('rule: association target_id must be a UUID; ids come back lowercase', () => {
    const association = { target_id: 'nope', association_type: 'causal', weight: 0.1 };
    expect(cmpErrorOf(() => parseEncodeStore({ content: textContent(), associations: [association] })).field).toBe('associations.0.target_id');
    const upper = parseEncodeStore({ content: textContent(), associations: [{ ...association, target_id: ID.toUpperCase() }] });
    expect(upper.associations[0].target_id).toBe(ID);
  });

  it('rule: association_type is one of the eight types', () => {
    const association = { target_id: ID, association_type: 'friend', weight: 0.1 };
    expect(cmpErrorOf(() => parseEncodeStore({ content: textContent(), associations: [association] })).field).toBe('associations.0.association_type');
  });

  it.each([[1.1], [-0.5], [undefined]])('rule: association weight is a number in [0, 1] (%j)', (weight) => {
    const association = { target_id: ID, association_type: 'causal', weight };
    const err = cmpErrorOf(() => parseEncodeStore({ content: textContent(), associations: [association] }));
    expect(err.field).toBe('associations.0.weight');
  });

  it('rule: meta is validated with its full path', () => {
    const meta = { context_edges: [{ target_id: ID, evidence: [{}, { confidence: 1.2 }] }] };
    const err = cmpErrorOf(() => parseEncodeStore({ content: textContent(), meta }));
    expect(err.field).toBe('meta.context_edges.0.evidence.1.confidence');
    expect(err.message).toBe('meta.context_edges.0.evidence.1.confidence: must be in [0.0, 1.0]');
  });

  it('keeps any JSON as metadata, spatial and temporal', () => {
    const request = parseEncodeStore({ content: textContent(), metadata: [1, 'two'], context: { temporal: { at: 'noon' } } });
    expect(request.metadata).toEqual([1, 'two']);
    expect(request.context).toEqual({ source: null, session_id: null, spatial: null, temporal: { at: 'noon' } });
  });

  it('rule: space matches [A-Za-z0-9._-]{1,64}', () => {
    expect(parseEncodeStore({ content: textContent(), space: 'team-a.v2_x' }).space).toBe('team-a.v2_x');
    for (const space of ['', 'a b', 'x'.repeat(65), 'ü']) {
      const err = cmpErrorOf(() => parseEncodeStore({ content: textContent(), space }));
      expect(err.code).toBe('VALIDATION_ERROR');
      expect(err.field).toBe('space');
    }
    expect(parseEncodeStore({ content: textContent(), space: 'x'.repeat(64) }).space).toHaveLength(64);
  });

  it('takes the idempotency key from header.request_id, else from idempotency_key', () => {
    expect(parseEncodeStore({ content: textContent(), header: { request_id: ID } }).idempotency_key).toBe(ID);
    expect(parseEncodeStore({ content: textContent(), idempotency_key: 'retry-1' }).idempotency_key).toBe('retry-1');
    expect(parseEncodeStore({ content: textContent(), header: { request_id: 'h' }, idempotency_key: 'k' }).idempotency_key).toBe('h');
    expect('idempotency_key' in parseEncodeStore({ content: textContent() })).toBe(false);
  });

  it('rule: an idempotency key is a non-empty string of at most 200 characters', () => {
    expect(cmpErrorOf(() => parseEncodeStore({ content: textContent(), header: { request_id: '' } })).field).toBe('header.request_id');
    expect(cmpErrorOf(() => parseEncodeStore({ content: textContent(), idempotency_key: 'k'.repeat(201) })).field).toBe('idempotency_key');
    expect(parseEncodeStore({ content: textContent(), idempotency_key: 'k'.repeat(200) }).idempotency_key).toHaveLength(200);
  });
});

describe('parseEncodeBatch', () => {
  it('defaults infer_associations to false and parses each record like encode.store', () => {
    const request = parseEncodeBatch({ records: [{ content: textContent(HI) }, { content: textContent(), store: 'working' }] });
    expect(request.infer_associations).toBe(false);
    expect(request.records).toHaveLength(2);
    expect(request.records[0]).toEqual({
      content: { blocks: [{ modality: 'text', format: 'text/plain', data: HI_B64, embedding: null }], summary: null },
      store: null,
      emotion: null,
      context: null,
      metadata: null,
      associations: [],
      meta: null,
    });
    expect(request.records[1].store).toBe('working');
  });

  it('keeps infer_associations when given', () => {
    expect(parseEncodeBatch({ records: [], infer_associations: true }).infer_associations).toBe(true);
  });

  it('rule: records is required', () => {
    expect(cmpErrorOf(() => parseEncodeBatch({})).field).toBe('records');
  });

  it('rule: more than 1000 records is refused with the reference text', () => {
    const records = Array.from({ length: 1001 }, () => ({ content: textContent() }));
    const err = cmpErrorOf(() => parseEncodeBatch({ records }));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('records');
    expect(err.message).toBe('Batch size 1001 exceeds maximum of 1000');
  });

  it('accepts exactly 1000 records', () => {
    const records = Array.from({ length: 1000 }, () => ({ content: textContent() }));
    expect(parseEncodeBatch({ records }).records).toHaveLength(1000);
  });

  it('rule: errors inside a record name its index', () => {
    const records = [0, 1, 2].map(() => ({ content: textContent() }));
    records.push({ content: { blocks: [{ modality: 'txt', format: 'f', data: HI_B64 }] } });
    const err = cmpErrorOf(() => parseEncodeBatch({ records }));
    expect(err.field).toBe('records.3.content.blocks.0.modality');
    expect(err.message).toBe(`records.3.content.blocks.0.modality: expected one of ${MODALITY_LIST}`);
  });

  it('rule: an oversized block in a record is CONTENT_TOO_LARGE naming the record', () => {
    const big = Buffer.alloc(1_048_577).toString('base64');
    const err = cmpErrorOf(() => parseEncodeBatch({ records: [{ content: textContent() }, { content: textContent(big) }] }));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.field).toBe('records.1.content.blocks.0.data');
  });

  it('rule: an invalid store in a record is STORE_INVALID naming the record', () => {
    const err = cmpErrorOf(() => parseEncodeBatch({ records: [{ content: textContent(), store: 'attic' }] }));
    expect(err.code).toBe('STORE_INVALID');
    expect(err.field).toBe('records.0.store');
    expect(err.message).toBe('Invalid store: attic');
  });
});

describe('parseEncodeUpdate', () => {
  it('takes the record id from the path, overriding the body', () => {
    expect(parseEncodeUpdate({ record_id: ID2 }, ID).record_id).toBe(ID);
  });

  it('takes the record id from the body without a path id', () => {
    expect(parseEncodeUpdate({ record_id: ID }).record_id).toBe(ID);
  });

  it('rule: a record id is required', () => {
    const err = cmpErrorOf(() => parseEncodeUpdate({ emotion: 'joy' }));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('record_id');
  });

  it('rule: the record id must be a UUID (path or body)', () => {
    expect(cmpErrorOf(() => parseEncodeUpdate({}, 'not-a-uuid')).field).toBe('record_id');
    expect(cmpErrorOf(() => parseEncodeUpdate({ record_id: 12 })).field).toBe('record_id');
  });

  it('leaves absent and null fields out, so they are not replaced', () => {
    expect(parseEncodeUpdate({ content: null, emotion: null, metadata: null, meta: null }, ID)).toEqual({ space: 'default', record_id: ID });
  });

  it('keeps the given fields: content as base64, emotion completed, metadata, meta with defaults', () => {
    const request = parseEncodeUpdate({ content: textContent(HI), emotion: { fear: 0.4 }, metadata: { a: 1 }, meta: { intent: 'i' } }, ID);
    expect(request).toEqual({
      space: 'default',
      record_id: ID,
      content: { blocks: [{ modality: 'text', format: 'text/plain', data: HI_B64, embedding: null }], summary: null },
      emotion: { ...neutralEmotion(), fear: 0.4 },
      metadata: { a: 1 },
      meta: { ...META_DEFAULTS, intent: 'i' },
    });
  });

  it('rule: replacement content is validated', () => {
    expect(cmpErrorOf(() => parseEncodeUpdate({ content: { blocks: [] } }, ID)).field).toBe('content.blocks');
  });
});

const rawBody = (overrides: Record<string, unknown> = {}) => ({
  session_id: 's-1',
  source: 'conversation',
  speaker: 'user',
  visibility: 'normal',
  secrecy_level: 'public',
  content: textContent(HI),
  ...overrides,
});

describe('parseEncodeStoreRaw', () => {
  it('applies the defaults of §3.4', () => {
    expect(parseEncodeStoreRaw(rawBody())).toEqual({
      space: 'default',
      session_id: 's-1',
      turn_id: null,
      topic_id: null,
      source: 'conversation',
      speaker: 'user',
      visibility: 'normal',
      secrecy_level: 'public',
      content: { blocks: [{ modality: 'text', format: 'text/plain', data: HI_B64, embedding: null }], summary: null },
      metadata: {},
      meta: null,
    });
  });

  it('keeps the optional fields when given', () => {
    const request = parseEncodeStoreRaw(rawBody({ turn_id: 't-2', topic_id: 'topic', metadata: { k: 'v' }, meta: { tags: ['x'] } }));
    expect(request).toMatchObject({ turn_id: 't-2', topic_id: 'topic', metadata: { k: 'v' }, meta: { tags: ['x'] } });
  });

  it('does not share the default metadata object between requests', () => {
    const first = parseEncodeStoreRaw(rawBody());
    (first.metadata as Record<string, unknown>).touched = true;
    expect(parseEncodeStoreRaw(rawBody()).metadata).toEqual({});
  });

  it('rule: session_id must not be blank after trim', () => {
    const err = cmpErrorOf(() => parseEncodeStoreRaw(rawBody({ session_id: '   ' })));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('session_id');
    expect(err.message).toBe('session_id must not be empty');
  });

  it.each([['session_id'], ['source'], ['speaker'], ['visibility'], ['secrecy_level'], ['content']])('rule: %s is required', (field) => {
    const err = cmpErrorOf(() => parseEncodeStoreRaw(rawBody({ [field]: undefined })));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe(field);
  });

  it.each([
    ['source', 'chat', 'conversation, tool_io, scratchpad, summary, imported'],
    ['speaker', 'robot', 'user, assistant, system, tool'],
    ['visibility', 'hidden', 'normal, private_scratch, sealed'],
    ['secrecy_level', 'top', 'public, sensitive, secret'],
  ])('rule: %s is one of its enum values', (field, value, list) => {
    const err = cmpErrorOf(() => parseEncodeStoreRaw(rawBody({ [field]: value })));
    expect(err.field).toBe(field);
    expect(err.message).toBe(`${field}: expected one of ${list}`);
  });
});

describe('parseEncodeBatchRaw', () => {
  it('parses each record like encode.store_raw', () => {
    const request = parseEncodeBatchRaw({ records: [rawBody(), rawBody({ speaker: 'assistant' })], space: 'tenant' });
    expect(request.space).toBe('tenant');
    expect(request.records.map((r) => r.speaker)).toEqual(['user', 'assistant']);
    expect(request.records[0]).not.toHaveProperty('space');
  });

  it('has no 1000-record cap (unlike encode.batch)', () => {
    expect(parseEncodeBatchRaw({ records: Array.from({ length: 1001 }, () => rawBody()) }).records).toHaveLength(1001);
  });

  it('rule: errors inside a record name its index', () => {
    const err = cmpErrorOf(() => parseEncodeBatchRaw({ records: [rawBody(), rawBody({ session_id: '' })] }));
    expect(err.field).toBe('records.1.session_id');
    expect(err.message).toBe('session_id must not be empty');
  });
});

describe('parseIntrospectRecord', () => {
  it('defaults the three include flags to false', () => {
    expect(parseIntrospectRecord({ record_id: ID })).toEqual({
      space: 'default',
      record_id: ID,
      include_history: false,
      include_associations: false,
      include_versions: false,
    });
  });

  it('takes the id from the path and flags as booleans or query strings', () => {
    expect(parseIntrospectRecord({ include_history: 'true', include_versions: true, include_associations: 'false' }, ID)).toMatchObject({
      record_id: ID,
      include_history: true,
      include_versions: true,
      include_associations: false,
    });
  });

  it('rule: flags are booleans', () => {
    expect(cmpErrorOf(() => parseIntrospectRecord({ include_history: 'yes' }, ID)).field).toBe('include_history');
  });

  it('rule: record_id is required and a UUID', () => {
    expect(cmpErrorOf(() => parseIntrospectRecord({})).field).toBe('record_id');
    expect(cmpErrorOf(() => parseIntrospectRecord(undefined, 'x')).field).toBe('record_id');
  });
});

describe('parseStats', () => {
  it('accepts no body at all', () => {
    expect(parseStats(undefined)).toEqual({ space: 'default' });
  });

  it('takes the space', () => {
    expect(parseStats({ space: 'other' })).toEqual({ space: 'other' });
  });

  it('rule: the space is validated', () => {
    expect(cmpErrorOf(() => parseStats({ space: '../etc' })).field).toBe('space');
  });
});

describe('parseForget', () => {
  it('applies the defaults of §3.15; a missing confirm parses as false', () => {
    expect(parseForget({})).toEqual({
      space: 'default',
      record_ids: [],
      store: null,
      temporal_range: null,
      cascade: false,
      confirm: false,
    });
  });

  it('keeps the given fields, ids lowercased and timestamps normalised to UTC', () => {
    const request = parseForget({
      record_ids: [ID.toUpperCase(), ID2],
      store: 'episodic',
      cascade: true,
      confirm: true,
      temporal_range: { start: '2026-01-01T02:00:00+02:00', end: '2026-01-31T23:59:59.123456789Z' },
    });
    expect(request).toEqual({
      space: 'default',
      record_ids: [ID, ID2],
      store: 'episodic',
      cascade: true,
      confirm: true,
      temporal_range: { start: '2026-01-01T00:00:00.000Z', end: '2026-01-31T23:59:59.123Z' },
    });
  });

  it('rule: confirm is a boolean when given', () => {
    expect(cmpErrorOf(() => parseForget({ confirm: 'yes' })).field).toBe('confirm');
  });

  it('rule: record ids must be UUIDs', () => {
    const err = cmpErrorOf(() => parseForget({ record_ids: [ID, 'abc'], confirm: true }));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('record_ids.1');
  });

  it('rule: an unknown store is STORE_INVALID', () => {
    const err = cmpErrorOf(() => parseForget({ store: 'WORKING', confirm: true }));
    expect(err.code).toBe('STORE_INVALID');
    expect(err.message).toBe('Invalid store: WORKING');
  });

  it('rule: a temporal range needs both start and end', () => {
    expect(cmpErrorOf(() => parseForget({ temporal_range: { end: '2026-01-01T00:00:00Z' } })).field).toBe('temporal_range.start');
  });

  it.each([['2026-02-30T00:00:00Z'], ['2026-01-01'], ['2026-01-01T00:00Z'], ['yesterday']])('rule: temporal range bounds are RFC 3339 timestamps (%s)', (end) => {
    const err = cmpErrorOf(() => parseForget({ temporal_range: { start: '2026-01-01T00:00:00Z', end } }));
    expect(err.field).toBe('temporal_range.end');
    expect(err.message).toBe('temporal_range.end: must be an RFC 3339 timestamp');
  });
});

describe('parseExport (§3.16)', () => {
  it('applies the defaults', () => {
    expect(parseExport({})).toEqual({
      space: 'default',
      format: 'cma',
      stores: null,
      include_raw_journal: false,
      encrypt: false,
      encryption_key: null,
      all_spaces: false,
    });
  });

  it('takes jsonl as an alias of cma, trimmed and in any case, and counts a store named twice once', () => {
    expect(parseExport({ format: ' JsonL ', stores: ['semantic', 'episodic', 'semantic'] })).toMatchObject({ format: 'cma', stores: ['semantic', 'episodic'] });
  });

  it("rule: refuses another format with the reference's text", () => {
    const err = cmpErrorOf(() => parseExport({ format: 'sqlite' }));
    expect(err).toMatchObject({ code: 'VALIDATION_ERROR', field: 'format', message: "Unsupported export format 'sqlite'. Valid options: cma, jsonl" });
  });
});

describe('parseImport (§3.17)', () => {
  it('applies the defaults and leaves the archive apart from the request', () => {
    expect(parseImport({ archive_id: 'a', archive_data: HI })).toEqual({
      request: {
        space: 'default',
        archive_id: 'a',
        strategy: 'merge',
        conflict_resolution: 'keep_newer',
        decryption_key: null,
        all_spaces: false,
      },
      archive_data: Buffer.from('Hi'),
    });
  });

  it('takes the archive as base64 too, or not at all (streaming transports send it apart)', () => {
    expect(parseImport({ archive_id: 'a', archive_data: HI_B64 }).archive_data).toEqual(Buffer.from('Hi'));
    expect(parseImport({ archive_id: 'a' }).archive_data).toBeNull();
  });

  it.each([
    [{ archive_data: HI }, 'archive_id'],
    [{ archive_id: 'a', strategy: 'upsert' }, 'strategy'],
    [{ archive_id: 'a', conflict_resolution: 'keep_both' }, 'conflict_resolution'],
    [{ archive_id: 'a', decryption_key: 42 }, 'decryption_key'],
  ])('rule: %j names the field %s', (body, field) => {
    const err = cmpErrorOf(() => parseImport(body));
    expect(err).toMatchObject({ code: 'VALIDATION_ERROR', field });
  });
});
