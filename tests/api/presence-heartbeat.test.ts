import { freshUserId } from '@mm/test-support/chat';
import { openTestServices, type TestServices } from '@mm/test-support/services';

/**
 * The presence heartbeat refreshes the sockets this process's socket cap holds, in slices: every
 * one of more sockets than a slice, and none the cap released. On real PostgreSQL, with the
 * in-memory presence store (no Redis in this process), which counts a refreshed socket online.
 */
describe('the presence heartbeat', () => {
  let test: TestServices;

  beforeAll(async () => {
    test = await openTestServices('presence_heartbeat', { rules: { maxSocketsPerUser: 2 } });
  });

  afterAll(async () => {
    await test?.close();
  });

  it('when the cap holds more sockets than one slice, then a beat refreshes each of them, and none released', async () => {
    const { presence, connectionLimits } = test.services;
    const cap = connectionLimits.socketsPerUser;
    const users = Array.from({ length: 1_200 }, () => freshUserId());
    users.forEach((userId, i) => cap.admit(userId, `socket-${i}`));
    const released = freshUserId();
    cap.admit(released, 'socket-released');
    cap.release(released, 'socket-released');

    await presence.heartbeat();

    const statuses = await presence.statuses([...users, released]);
    expect(statuses.filter((status) => status.online)).toHaveLength(users.length);
    expect(statuses.at(-1)).toMatchObject({ user_id: released, online: false });
    users.forEach((userId, i) => cap.release(userId, `socket-${i}`));
  });
});
