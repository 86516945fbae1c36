import { ChatClient } from '@mm/client';
import type { MessageView } from '@mm/contract';
import type { TestUser } from './chat';
import { eventually } from './http';

/**
 * Two users chatting through the SDK's ChatClient (its outbox, reconnects and sync), for tests that
 * break things under a live chat and then check that nothing acked was lost or doubled.
 */

export type Side = 'ann' | 'bob';
export const SIDES: readonly Side[] = ['ann', 'bob'];
export const partnerOf = (side: Side): Side => (side === 'ann' ? 'bob' : 'ann');

export interface Arrival {
  message: MessageView;
  at: number;
}

export interface ChatEnd {
  user: TestUser;
  client: ChatClient;
  /** Every message the client delivered (its `message` event), in order, with when. */
  arrivals: Arrival[];
}

/** A ChatClient following the match, connected and caught up. */
export async function openChatEnd(url: string, user: TestUser, matchId: number): Promise<ChatEnd> {
  const client = new ChatClient({ url, token: user.token });
  client.follow(matchId);
  const arrivals: Arrival[] = [];
  client.on('message', (message) => arrivals.push({ message, at: Date.now() }));
  const ready = new Promise<void>((resolve) => client.on('ready', resolve));
  client.connect();
  await ready;
  return { user, client, arrivals };
}

/** Both users sending to each other every `everyMs`, and what became of each send. */
export class ChatStream {
  /** Acked sends, in the order their acks came, with when. */
  readonly acked: { from: Side; message: MessageView; at: number }[] = [];
  readonly rejected: { from: Side; body: string; error: string }[] = [];
  private pending = 0;
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly label: string,
    private readonly ends: Record<Side, ChatEnd>,
    private readonly matchId: number,
    private readonly everyMs = 100,
  ) {}

  start(): this {
    this.timer = setInterval(() => SIDES.forEach((side) => this.send(side)), this.everyMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  ackedFrom(from: Side): number {
    return this.acked.filter((sent) => sent.from === from).length;
  }

  /** Sends one message now through the outbox; returns its body. */
  send(from: Side, body = `${this.label} ${from} #${this.count++}`): string {
    this.pending++;
    this.ends[from].client.send(this.matchId, body).then(
      (message) => {
        this.pending--;
        this.acked.push({ from, message, at: Date.now() });
      },
      (error: Error) => {
        this.pending--;
        this.rejected.push({ from, body, error: error.message });
      },
    );
    return body;
  }

  /** When the partner received the message with this body, after `since` (ms), or Infinity. */
  async deliveredAfter(from: Side, body: string, since: number, timeoutMs: number) {
    const arrivals = this.ends[partnerOf(from)].arrivals;
    const arrival = await eventually(
      async () => arrivals.find((a) => a.message.body === body),
      (found) => found !== undefined,
      timeoutMs,
    ).catch(() => undefined);
    return arrival ? arrival.at - since : Infinity;
  }

  /** Sends neither acked nor refused yet. */
  get unsettled(): number {
    return this.pending;
  }

  /** Waits until every send was acked or refused for good. */
  settled(timeoutMs = 40_000): Promise<number> {
    return eventually(
      async () => this.pending,
      (pending) => pending === 0,
      timeoutMs,
    );
  }

  /** The acked messages the partner does not hold as sent (body and client_id), described. */
  missing(): string[] {
    const held = (side: Side) => new Map(this.ends[side].arrivals.map((a) => [a.message.seq, a]));
    const bySide = { ann: held('ann'), bob: held('bob') };
    return this.acked
      .filter(({ from, message }) => {
        const got = bySide[partnerOf(from)].get(message.seq)?.message;
        return got?.body !== message.body || got.client_id !== message.client_id;
      })
      .map(({ from, message }) => `${from}'s seq ${message.seq} “${message.body}”`);
  }

  /** Waits (bounded) until the partners hold every acked message; returns what is still missing. */
  async missingAfter(timeoutMs = 20_000): Promise<string[]> {
    await eventually(
      async () => this.missing(),
      (left) => left.length === 0,
      timeoutMs,
    ).catch(() => undefined);
    return this.missing();
  }

  /** Seqs either user was handed more than once, ever. */
  duplicates(): number[] {
    return SIDES.flatMap((side) => {
      const seen = new Set<number>();
      return this.ends[side].arrivals
        .map((a) => a.message.seq)
        .filter((seq) => seen.has(seq) || !seen.add(seq));
    });
  }
}
