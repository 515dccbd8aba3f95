// The package's public surface: the typed client for a running server, and the server itself for
// embedding Cerememory in another Node program.
export { CerememoryClient, type CerememoryClientOptions, type ClientProtocol, type CmpJson, type RpcName } from './client/client.js';
export { CmpError, type CmpCode } from './cmp/errors.js';
export { startServer, type CerememoryServer } from './server.js';
export { loadConfig, type CerememoryConfig } from './runtime/config/index.js';
export * from './gen/cerememory/v1/cerememory_pb.js';
