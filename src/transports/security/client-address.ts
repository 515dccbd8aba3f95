import { BlockList, isIP } from 'node:net';

// Who a request comes from, for rate limiting (reference spec §6.1). The socket peer, unless the peer
// is a trusted proxy (`http.trusted_proxy_cidrs`): then X-Forwarded-For is read right to left and the
// first address that is not itself a trusted proxy is the client (entries further left were written
// by the client and prove nothing), else X-Real-IP, else the peer. No peer (an in-process request)
// counts as 127.0.0.1.

export type ClientAddressOf = (peer: string | undefined, header: (name: string) => string | null | undefined) => string;

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is the IPv4 address 10.0.0.1. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? mapped[1] : trimmed.toLowerCase();
}

export function trustedProxies(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.trim().split('/');
    const family = isIP(address);
    list.addSubnet(address, Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

function inList(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export function clientAddressResolver(cidrs: readonly string[]): ClientAddressOf {
  if (cidrs.length === 0)
    return function peerAddress(peer) {
      return peer === undefined ? '127.0.0.1' : normalizeAddress(peer);
    };
  const trusted = trustedProxies(cidrs);
  return function clientAddress(peer, header) {
    if (peer === undefined) return '127.0.0.1';
    const direct = normalizeAddress(peer);
    if (!inList(trusted, direct)) return direct;
    const forwarded = (header('x-forwarded-for') ?? '')
      .split(',')
      .map(normalizeAddress)
      .filter((entry) => isIP(entry) !== 0);
    for (let i = forwarded.length - 1; i >= 0; i -= 1) {
      if (!inList(trusted, forwarded[i])) return forwarded[i];
    }
    const real = normalizeAddress(header('x-real-ip') ?? '');
    return isIP(real) !== 0 ? real : direct;
  };
}
