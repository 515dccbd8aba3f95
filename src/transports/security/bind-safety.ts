import { BlockList, isIP } from 'node:net';
import { ConfigError, type CerememoryConfig } from '../../runtime/config/index.js';

// Startup safety (reference spec §6.1, §8.3): without auth the server only listens on loopback, so a
// memory database is never opened to the network by accident.

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** `localhost`, 127.0.0.0/8, ::1 and IPv4-mapped loopback (`::ffff:127.0.0.1`). */
export function isLoopback(address: string): boolean {
  const value = address
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (value === 'localhost') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(value);
  const plain = mapped ? mapped[1] : value;
  const family = isIP(plain);
  return family !== 0 && LOOPBACK.check(plain, family === 6 ? 'ipv6' : 'ipv4');
}

/** Throws a ConfigError naming both keys when the server would listen beyond loopback with auth off. */
export function assertSafeBind(config: CerememoryConfig): void {
  const address = config.http.bind_address;
  if (config.auth.enabled || isLoopback(address)) return;
  throw new ConfigError([
    {
      path: 'http.bind_address',
      source: 'the merged configuration',
      message:
        `refusing to start: "${address}" is not a loopback address and auth is disabled, so anyone who can reach ` +
        'this port could read and erase every memory. Set [auth] enabled = true with api_keys (or ' +
        'CEREMEMORY_AUTH__ENABLED=true and CEREMEMORY_AUTH_API_KEYS=key1,key2), or bind to 127.0.0.1.',
    },
  ]);
}
