import { create, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { EncodeStoreRequestSchema, IntrospectRecordResponseSchema } from '../src/gen/cerememory/v1/cerememory_pb.js';
import { requestJson, responseMessage } from '../src/transports/connect/convert.js';
import type { Bench } from './run.js';

// Main-thread time of converting one Connect message carrying a large image (issue 14, defect 6):
// the binding's Buffer route against protobuf-es's own toJson/fromJson, which base64 in JavaScript.
// `npm run bench -- connect-bytes [MiB]`, default 10 (the image limit).

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timed(runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    times.push(performance.now() - started);
  }
  return Math.round(median(times) * 10) / 10;
}

const bench: Bench = {
  description: 'request → CMP JSON and CMP JSON → response for one large image block, Buffer route vs protobuf-es',
  async run(args, progress) {
    const mib = Number(args[0] ?? 10);
    const data = new Uint8Array(mib * 1_048_576).map((_, i) => i & 0xff);
    const request = create(EncodeStoreRequestSchema, { content: { blocks: [{ modality: 'image', format: 'image/png', data }] } });
    const answer = { record: { id: 'r', content: { blocks: [{ modality: 'image', format: 'image/png', data: Buffer.from(data).toString('base64') }] } } };
    const runs = 5;
    const report = {
      image_mib: mib,
      runs,
      request_buffer_ms: timed(runs, () => requestJson(EncodeStoreRequestSchema, request)),
      request_protobuf_es_ms: timed(runs, () => toJson(EncodeStoreRequestSchema, request, { useProtoFieldName: true })),
      response_buffer_ms: timed(runs, () => responseMessage(IntrospectRecordResponseSchema, answer)),
      response_protobuf_es_ms: timed(runs, () => fromJson(IntrospectRecordResponseSchema, answer as JsonValue, { ignoreUnknownFields: true })),
    };
    progress(
      `median of ${runs}: request ${report.request_buffer_ms} ms (protobuf-es ${report.request_protobuf_es_ms} ms), response ${report.response_buffer_ms} ms (protobuf-es ${report.response_protobuf_es_ms} ms)`,
    );
    return report;
  },
};

export default bench;
