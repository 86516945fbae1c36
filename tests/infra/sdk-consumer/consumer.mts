// Type-checked against the packed declarations (the `import` condition): real types, not `any`.
import { ChatClient, ERROR_STATUS, RestClient, type MatchView } from '@mm/client';
import { matchRoom, type MessageView } from '@mm/contract';

const rest = new RestClient('http://localhost:3000', () => 'token');
const match: Promise<MatchView> = rest.findMatch(1);
const chat = new ChatClient({ url: 'http://localhost:3000', token: async () => 'token' });
chat.on('message', (message: MessageView) => console.log(message.seq, message.body));
const status: number = ERROR_STATUS.RATE_LIMITED;
const room: string = matchRoom(1);
// @ts-expect-error a body is a string
void chat.send(1, 42);
// @ts-expect-error no such event
chat.on('no-such-event', () => undefined);
export { match, room, status };
