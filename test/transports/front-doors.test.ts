import { sharedRuntime } from '../helpers/front-doors.js';
import { connectDoor, mcpDoor, restDoor, runTransportCases } from './cases.js';

// The shared transport cases over every front door of one runtime, in process: REST through
// `app.request`, Connect (binary and JSON) through `createRouterTransport`, MCP through
// `InMemoryTransport`. The same cases on real ports: real-port.test.ts.

const runtime = sharedRuntime();

runTransportCases({ name: 'REST (app.request)', makeDoor: () => restDoor(runtime.call) });
runTransportCases({ name: 'Connect binary (router transport)', makeDoor: () => connectDoor(runtime.connect()) });
runTransportCases({ name: 'Connect JSON (router transport)', makeDoor: () => connectDoor(runtime.connect({ binary: false })) });
runTransportCases({ name: 'MCP (in-memory transport)', makeDoor: async () => mcpDoor(await runtime.mcp()) });
