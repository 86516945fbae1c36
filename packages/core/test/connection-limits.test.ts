import { AppError, clientAddress, SocketCap } from '../src';

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

describe('SocketCap', () => {
  it('when a user reaches the cap, then the next socket is refused TOO_MANY_CONNECTIONS with the limit, and a released one makes room', () => {
    const cap = new SocketCap(2);
    cap.admit(1, 'a');
    cap.admit(1, 'b');
    cap.admit(2, 'c');
    expect(() => cap.admit(1, 'd')).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_CONNECTIONS', details: { limit: 2 } }),
    );
    cap.release(1, 'a');
    cap.release(1, 'a'); // twice: harmless
    expect(cap.count(1)).toBe(1);
    cap.admit(1, 'd');
    expect(cap.count(1)).toBe(2);
  });

  it('when the cap is 0, then there is none', () => {
    const cap = new SocketCap(0);
    for (let i = 0; i < 50; i++) cap.admit(1, `s${i}`);
    expect(cap.count(1)).toBe(50);
  });

  it('when a refusal is thrown, then it is an AppError a handshake can pass on', () => {
    const cap = new SocketCap(1);
    cap.admit(1, 'a');
    expect(() => cap.admit(1, 'b')).toThrow(AppError);
  });
});
