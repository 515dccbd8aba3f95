import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus as Status, HealthCheckResponseSchema } from '../../gen/grpc/health/v1/health_pb.js';

// The standard gRPC health service (grpc.health.v1), as the reference registers it: SERVING while
// every store worker is ready, NOT_SERVING while one restarts.

export function healthRoutes(ready: () => boolean, serviceNames: string[]) {
  const status = (service: string) => {
    if (service !== '' && !serviceNames.includes(service)) throw new ConnectError(`unknown service ${service}`, Code.NotFound);
    return create(HealthCheckResponseSchema, { status: ready() ? Status.SERVING : Status.NOT_SERVING });
  };
  return (router: ConnectRouter): void => {
    router.service(Health, {
      check: (request) => status(request.service),
      async *watch(request) {
        yield status(request.service);
      },
    });
  };
}
