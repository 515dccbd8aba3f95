import { PassThrough } from 'node:stream';
import { create } from '@bufbuild/protobuf';
import { CmpError } from '../../cmp/errors.js';
import {
  ExportRequestSchema,
  ExportResponseSchema,
  ImportOptionsSchema,
  ImportResponseSchema,
  type ExportRequest,
  type ExportResponse,
  type ImportRequest,
} from '../../gen/cerememory/v1/cerememory_pb.js';
import type { Operations } from '../operations.js';
import { requestJson } from './convert.js';

// Export and Import, the two streaming RPCs (spec §6.2). The archive never sits whole in memory: export
// stages it on disk first (so the first chunk can carry its size and checksum) and streams it in
// 64 KiB chunks; import hands the chunks straight to the archiver, which verifies before it writes.
// Failures, before or during the stream, become Connect errors in cmpErrorInterceptor (wire.ts).

export const EXPORT_CHUNK_BYTES = 64 * 1024;

/** A byte stream cut into pieces of at most `size` bytes. */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    let piece = chunk;
    while (pendingBytes + piece.length >= size) {
      const take = size - pendingBytes;
      pending.push(piece.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      piece = piece.subarray(take);
    }
    if (piece.length > 0) {
      pending.push(piece);
      pendingBytes += piece.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

export function exportHandler(operations: Operations) {
  return async function* exportArchive(request: ExportRequest): AsyncGenerator<ExportResponse> {
    const prepared = await operations.prepareExport(requestJson(ExportRequestSchema, request));
    try {
      const metadata = { ...prepared.response, size_bytes: BigInt(prepared.response.size_bytes) };
      const bytes = new PassThrough();
      const writing = prepared.writeTo(bytes);
      writing.catch((error: unknown) => bytes.destroy(error as Error));
      // One chunk of look-ahead, so the last one can say so.
      let held: Uint8Array | undefined;
      let first = true;
      const chunk = (data: Uint8Array, isLast: boolean) => {
        const message = create(ExportResponseSchema, {
          data,
          isLast,
          ...(first ? { metadata: { archiveId: metadata.archive_id, sizeBytes: metadata.size_bytes, recordCount: metadata.record_count, checksum: metadata.checksum } } : {}),
        });
        first = false;
        return message;
      };
      for await (const piece of rechunk(bytes, EXPORT_CHUNK_BYTES)) {
        if (held !== undefined) yield chunk(held, false);
        held = piece;
      }
      await writing;
      yield chunk(held ?? new Uint8Array(0), true);
    } finally {
      await prepared.discard();
    }
  };
}

export function importHandler(operations: Operations) {
  return async function importArchive(requests: AsyncIterable<ImportRequest>) {
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) throw new CmpError('VALIDATION_ERROR', 'Import needs at least one chunk, the first carrying options', { field: 'options' });
    if (first.value.options === undefined) throw new CmpError('VALIDATION_ERROR', 'options: the first chunk must carry the import options', { field: 'options' });
    const options = requestJson(ImportOptionsSchema, first.value.options);
    async function* archive(): AsyncGenerator<Uint8Array> {
      if (first.value.data.length > 0) yield first.value.data;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        if (next.value.data.length > 0) yield next.value.data;
      }
    }
    const response = await operations.importArchive(options, archive());
    return create(ImportResponseSchema, { recordsImported: response.records_imported });
  };
}
