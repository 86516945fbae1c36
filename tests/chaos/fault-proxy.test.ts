import { connect, createServer, type Server, type Socket } from 'node:net';
import { FaultProxy } from '@mm/test-support/fault-proxy';

/** The fault proxy itself, in front of an echo server: what the chaos suite relies on. */
describe('the fault-injecting proxy', () => {
  let echo: Server;
  let echoPort: number;
  let proxy: FaultProxy;
  const clients: Socket[] = [];

  beforeAll(async () => {
    echo = createServer((socket) => {
      socket.on('error', () => undefined); // reset by a cut
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as { port: number }).port;
  });

  beforeEach(async () => {
    proxy = await new FaultProxy(echoPort).listen();
  });

  afterEach(async () => {
    clients.splice(0).forEach((client) => client.destroy());
    await proxy.close();
  });

  afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

  /** A connected client and the text it has received so far. */
  async function client(): Promise<{ socket: Socket; received: () => string; errors: string[] }> {
    const socket = connect(proxy.port, '127.0.0.1');
    clients.push(socket);
    const errors: string[] = [];
    socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    return { socket, received: () => text, errors };
  }

  function until(check: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const poll = () => (check() ? resolve() : setTimeout(poll, 5));
      poll();
    });
  }

  it('when passing, then bytes go through both ways', async () => {
    const { socket, received } = await client();
    socket.write('hello');
    await until(() => received() === 'hello');
  });

  it('when blackholed, then nothing comes back until restored, and then everything does, in order', async () => {
    const open = await client();
    proxy.blackhole();
    open.socket.write('one ');
    const late = await client(); // accepted although nothing answers
    late.socket.write('late');
    open.socket.write('two');
    // Absence can only be shown over a window: a slow machine makes it weaker, never red.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(open.received()).toBe('');
    expect(late.received()).toBe('');

    proxy.restore();
    await until(() => open.received() === 'one two' && late.received() === 'late');
  });

  it('when latency is added, then each round trip takes at least twice as long, and order is kept', async () => {
    const { socket, received } = await client();
    proxy.latency(100);
    const started = Date.now();
    socket.write('a');
    socket.write('b');
    await until(() => received() === 'ab');
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);

    proxy.restore();
    socket.write('c');
    await until(() => received() === 'abc');
  });

  it('when cut, then every open connection is reset and new ones still work', async () => {
    const first = await client();
    const closed = new Promise<void>((resolve) => first.socket.once('close', () => resolve()));
    await until(() => proxy.connections === 1);
    proxy.cut();
    await closed;
    expect(first.errors).toEqual(['ECONNRESET']);
    expect(proxy.connections).toBe(0);

    const second = await client();
    second.socket.write('again');
    await until(() => second.received() === 'again');
  });

  it('when the target refuses, then the client connection is reset', async () => {
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const deadPort = (spare.address() as { port: number }).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    const refusing = await new FaultProxy(deadPort).listen();
    try {
      const socket = connect(refusing.port, '127.0.0.1');
      const errors: string[] = [];
      socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code!));
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect(errors).toEqual(['ECONNRESET']);
      expect(refusing.connections).toBe(0);
    } finally {
      await refusing.close();
    }
  });
});
