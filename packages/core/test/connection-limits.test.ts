import { AppError, SocketCap } from '../src';

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

  it('when sockets are held, then forEach visits each once with its user, and none released', () => {
    const cap = new SocketCap(3);
    cap.admit(1, 'a');
    cap.admit(1, 'b');
    cap.admit(2, 'c');
    cap.admit(3, 'd');
    cap.release(3, 'd');
    const seen: [number, string][] = [];
    cap.forEach((userId, socketId) => seen.push([userId, socketId]));
    expect(seen.sort()).toEqual([
      [1, 'a'],
      [1, 'b'],
      [2, 'c'],
    ]);
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
