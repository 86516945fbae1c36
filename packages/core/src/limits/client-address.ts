/**
 * The client's address behind `trustedHops` proxies that each append the address they saw to
 * X-Forwarded-For (nginx, the Ingress): the entry that many places from the right, the peer's own
 * address with 0 hops. Entries further left were written by the client itself and are never taken.
 * The same rule as Express's `trust proxy` with a hop count, so REST requests and socket handshakes
 * of one client count against one address.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedHops: number,
): string | undefined {
  if (trustedHops === 0 || forwardedFor === undefined) return peer;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  // Nearest first: the peer, then each proxy's entry from the right.
  const chain = [
    peer,
    ...header
      .split(',')
      .map((entry) => entry.trim())
      .reverse(),
  ];
  return chain[Math.min(trustedHops, chain.length - 1)];
}
