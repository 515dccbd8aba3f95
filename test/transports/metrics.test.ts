import { describe, expect, it } from 'vitest';
import { CerememoryClient } from '../../src/client/client.js';
import { routeOf } from '../../src/transports/metrics.js';
import { sharedServer, startTestServer, textContent } from '../helpers/server.js';

// GET /metrics (http.metrics_enabled): requests of every protocol on the port, by bounded route label.

const server = sharedServer({ flags: { http: { metrics_enabled: true } } });

describe('/metrics', () => {
  it('counts REST and gRPC requests by route and status, and their CMP operations', async () => {
    const stored = await server.call('POST', '/v1/encode', { content: textContent('counted') });
    await server.call('GET', `/v1/introspect/record/${stored.body.record_id}`);
    await server.call('POST', '/v1/recall/query', { limit: 5000 });
    const client = new CerememoryClient({ baseUrl: server.url, protocol: 'grpc' });
    try {
      await client.rpc.stats({});
    } finally {
      client.close();
    }
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('cerememory_http_requests_total{method="POST",path="/v1/encode",status="200"} 1');
    expect(text).toContain('cerememory_http_requests_total{method="GET",path="/v1/introspect/record/{record_id}",status="200"} 1');
    expect(text).toContain('cerememory_http_requests_total{method="POST",path="/v1/recall/query",status="400"} 1');
    expect(text).toContain('cerememory_http_requests_total{method="POST",path="/cerememory.v1.CerememoryService/Stats",status="200"} 1');
    expect(text).toContain('cerememory_operations_total{operation="EncodeStore"} 1');
    expect(text).toContain('cerememory_operations_total{operation="Stats"} 1');
    expect(text).toMatch(/cerememory_http_request_duration_seconds_bucket\{le="[0-9.]+",method="POST",path="\/v1\/encode",status="200"\}/);
  });

  it('is absent when disabled', async () => {
    const plain = await startTestServer();
    try {
      expect((await plain.call('GET', '/metrics')).status).not.toBe(200);
    } finally {
      await plain.close();
    }
  });
});

describe('routeOf', () => {
  it('keeps the label set bounded', () => {
    expect(routeOf('GET', '/v1/introspect/record/01900000-0000-7000-8000-000000000000').route).toBe('/v1/introspect/record/{record_id}');
    expect(routeOf('GET', '/anything/else/42')).toEqual({ route: 'unknown', operation: null });
    expect(routeOf('POST', '/cerememory.v1.CerememoryService/RecallQuery')).toEqual({ route: '/cerememory.v1.CerememoryService/RecallQuery', operation: 'RecallQuery' });
  });
});
