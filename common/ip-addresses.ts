import { BlockList, isIP } from 'node:net';

/** A BlockList of addresses and CIDRs; throws with the offending entry when one is not valid. */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`"${entry}" is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const prefix = Number(bits);
    if (!/^\d{1,3}$/.test(bits) || prefix > (family === 6 ? 128 : 32)) throw new Error(`"${entry}" has an invalid prefix length`);
    list.addSubnet(address, prefix, type);
  }
  return list;
}

function normalise(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function listHas(list: BlockList, address: string): boolean {
  const plain = normalise(address);
  const family = isIP(plain);
  if (family === 0) return false;
  return list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The caller's address: the socket's peer, unless that peer is a trusted
 * proxy — then X-Forwarded-For is read from the right, skipping trusted
 * proxies, and the first untrusted hop is the caller. A forged header from
 * an untrusted peer is ignored.
 */
export function clientAddress(remoteAddress: string, forwardedFor: string | undefined, trustedProxies: BlockList): string {
  let address = normalise(remoteAddress);
  if (!forwardedFor || !listHas(trustedProxies, address)) return address;
  const hops = forwardedFor
    .split(',')
    .map((hop) => normalise(hop.trim()))
    .filter((hop) => isIP(hop) !== 0);
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    address = hops[i] ?? address;
    if (!listHas(trustedProxies, address)) return address;
  }
  return address;
}
