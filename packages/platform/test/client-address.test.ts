import { clientAddress } from '../src/http/client-address';

describe('clientAddress', () => {
  const peer = '10.0.0.2'; // the proxy nearest to us, or the client itself

  it('when no proxy is trusted, then the peer is the client whatever X-Forwarded-For says', () => {
    expect(clientAddress(peer, '203.0.113.1', 0)).toBe(peer);
  });

  it('when one proxy is trusted, then the entry it appended (the rightmost) is the client', () => {
    expect(clientAddress(peer, '198.51.100.9, 203.0.113.1', 1)).toBe('203.0.113.1');
    expect(clientAddress(peer, ['198.51.100.9', '203.0.113.1'], 1)).toBe('203.0.113.1');
  });

  it('when more proxies are trusted than entries exist, then the leftmost entry is taken', () => {
    expect(clientAddress(peer, '203.0.113.1', 2)).toBe('203.0.113.1');
    expect(clientAddress(peer, '198.51.100.9,203.0.113.1', 2)).toBe('198.51.100.9');
  });

  it('when a trusted proxy sent no X-Forwarded-For, then the peer is the client', () => {
    expect(clientAddress(peer, undefined, 1)).toBe(peer);
  });
});
