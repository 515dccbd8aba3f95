import { create } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from 'vitest';
import { CerememoryClient } from '../../../src/client/client.js';
import { MODALITY_SIZE_LIMITS } from '../../../src/cmp/content.js';
import { isCmpError } from '../../../src/cmp/errors.js';
import { EncodeBatchRequestSchema, EncodeStoreRequestSchema, IntrospectRecordResponseSchema } from '../../../src/gen/cerememory/v1/cerememory_pb.js';
import { requestJson, responseMessage } from '../../../src/transports/connect/convert.js';
import { sharedServer } from '../../helpers/server.js';

// Issue 14, defect 6: a 50 MB Connect EncodeStore held the event loop 26 s, protobuf-es base64-encoding
// the bytes in JavaScript. Oversized blocks are refused before any conversion, and bytes are converted
// by Buffer both ways. (The time it takes is measured by `npm run bench -- connect-bytes`, not here.)

const IMAGE_LIMIT = MODALITY_SIZE_LIMITS.image;

/** `size` bytes that differ from one position to the next, so a shifted or truncated copy shows. */
function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

const image = (data: Uint8Array) => ({ blocks: [{ modality: 'image', format: 'image/png', data }] });

describe('requestJson', () => {
  it('refuses a block over its modality limit naming the field, before converting anything', () => {
    const message = create(EncodeBatchRequestSchema, {
      records: [{ content: image(pattern(10)) }, { content: image(new Uint8Array(IMAGE_LIMIT + 1)) }],
    });
    let error: unknown;
    try {
      requestJson(EncodeBatchRequestSchema, message);
    } catch (caught) {
      error = caught;
    }
    expect(isCmpError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'CONTENT_TOO_LARGE',
      field: 'records.1.content.blocks.0.data',
      message: `records.1.content.blocks.0.data: ${IMAGE_LIMIT + 1} bytes exceeds ${IMAGE_LIMIT}`,
    });
  });

  it('gives bytes as base64 and leaves the message as it was', () => {
    const data = pattern(IMAGE_LIMIT);
    const message = create(EncodeStoreRequestSchema, { space: 's', content: image(data) });
    const json = requestJson(EncodeStoreRequestSchema, message) as { space: string; content: { blocks: { data: string; modality: string }[] } };
    expect(json.space).toBe('s');
    expect(json.content.blocks[0]!.modality).toBe('image');
    expect(json.content.blocks[0]!.data).toBe(Buffer.from(data).toString('base64'));
    expect(message.content!.blocks[0]!.data).toBe(data);
  });
});

describe('responseMessage', () => {
  it('decodes base64 bytes with Buffer, keeping every other field', () => {
    const data = pattern(1000);
    const message = responseMessage(IntrospectRecordResponseSchema, {
      record: { id: 'r1', content: { blocks: [{ modality: 'image', format: 'image/png', data: Buffer.from(data).toString('base64') }] } },
    });
    const block = message.record!.content!.blocks[0]!;
    expect(message.record!.id).toBe('r1');
    expect(block.format).toBe('image/png');
    expect(Buffer.isBuffer(block.data)).toBe(true);
    expect(Buffer.compare(block.data, data)).toBe(0);
  });
});

describe('over the wire', () => {
  const server = sharedServer();
  const client = () => {
    const c = new CerememoryClient({ baseUrl: server.url, protocol: 'grpc' });
    clients.push(c);
    return c;
  };
  const clients: CerememoryClient[] = [];
  afterAll(() => clients.forEach((c) => c.close()));

  it('stores a 10 MiB image and gives it back byte for byte', async () => {
    const { rpc } = client();
    const data = pattern(IMAGE_LIMIT);
    const stored = await rpc.encodeStore({ space: 'bytes', content: { ...image(data), summary: 'a large image' } });
    const inspected = await rpc.introspectRecord({ space: 'bytes', recordId: stored.recordId });
    const block = inspected.record!.content!.blocks[0]!;
    expect(block.data.byteLength).toBe(IMAGE_LIMIT);
    expect(Buffer.compare(block.data, data)).toBe(0);
  });

  it('refuses an image one byte over the limit with CONTENT_TOO_LARGE naming the block', async () => {
    const { rpc } = client();
    const error = await rpc.encodeStore({ space: 'bytes-refused', content: image(new Uint8Array(IMAGE_LIMIT + 1)) }).then(
      () => expect.fail('expected the call to fail'),
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({ code: 'CONTENT_TOO_LARGE', field: 'content.blocks.0.data' });
    expect((await rpc.stats({ space: 'bytes-refused' })).totalRecords).toBe(0);
  });
});
