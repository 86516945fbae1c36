import { connectSocket, RestClient, type ChatSocket } from '@mm/client';
import type { ServerToClientEvents } from '@mm/contract';
import { callJson } from './http';

export interface TestUser {
  id: number;
  token: string;
  rest: RestClient;
}

/** A user with a dev token and a profile, made through the public API like any client would. */
export async function createUser(
  apiUrl: string,
  id: number,
  displayName = `user ${id}`,
): Promise<TestUser> {
  const token = await new RestClient(apiUrl, () => undefined).devToken(id);
  const rest = new RestClient(apiUrl, () => token);
  await rest.saveProfile({ display_name: displayName });
  return { id, token, rest };
}

/** Connects a socket and resolves once the handshake is accepted. */
export async function connect(gatewayUrl: string, user: TestUser): Promise<ChatSocket> {
  const socket = connectSocket({ url: gatewayUrl, token: user.token });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** The next `event` the socket receives. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ChatSocket,
  event: E,
  timeoutMs = 5_000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${event} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const listener = ((payload: Parameters<ServerToClientEvents[E]>[0]) => {
      clearTimeout(timer);
      resolve(payload);
    }) as ServerToClientEvents[E];
    socket.once(event, listener as never);
  });
}

let nextId = Math.floor(Math.random() * 1e6) * 10 + 1_000_000;
/** Ids no other test file uses, so files may share a database when they must. */
export function freshUserId(): number {
  return nextId++;
}

/** `count` new users with a profile in `city`: a city of their own keeps a test's find-match to them. */
export async function usersInCity(
  apiUrl: string,
  city: string,
  count: number,
): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let i = 0; i < count; i++) {
    const user = await createUser(apiUrl, freshUserId());
    await user.rest.saveProfile({ display_name: `user ${user.id}`, city });
    users.push(user);
  }
  return users;
}

/** A dev token for a moderator with an id of its own (the moderation desk's caller). */
export async function moderatorToken(apiUrl: string): Promise<string> {
  const answer = await callJson<{ token: string }>(
    apiUrl,
    undefined,
    'POST',
    '/api/auth/dev-token',
    {
      user_id: freshUserId(),
      role: 'moderator',
    },
  );
  return answer.body.token;
}
