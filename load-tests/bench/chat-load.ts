import { io, type Socket } from 'socket.io-client';
import { summarize, type CpuUse, type LatencySummary } from './stats';

/** One side of a chat pair: who it is, which gateway it talks to, what it sends in the handshake. */
export interface Participant {
  userId: number;
  matchId: number;
  gatewayUrl: string;
  auth: Record<string, unknown>;
}

export interface RateResult {
  rate_per_s: number;
  seconds: number;
  sent: number;
  acked: number;
  delivered: number;
  lost: number;
  duplicated: number;
  errors: number;
  achieved_per_s: number;
  latency: LatencySummary;
  /** CPU used per 1,000 delivered messages by each part (see `CpuUse`). */
  cpu_ms_per_1k_messages?: Record<keyof CpuUse, number>;
}

interface Connected {
  participant: Participant;
  socket: Socket;
}

/** Connects every participant, resolving once all handshakes are accepted. */
export async function connectAll(
  participants: Participant[],
  concurrency = 200,
): Promise<Connected[]> {
  const connected: Connected[] = [];
  for (let i = 0; i < participants.length; i += concurrency) {
    const batch = participants.slice(i, i + concurrency);
    connected.push(
      ...(await Promise.all(
        batch.map(
          (participant) =>
            new Promise<Connected>((resolve, reject) => {
              const socket = io(participant.gatewayUrl, {
                auth: participant.auth,
                transports: ['websocket'],
                reconnection: false,
              });
              socket.once('connect', () => resolve({ participant, socket }));
              socket.once('connect_error', reject);
            }),
        ),
      )),
    );
  }
  return connected;
}

/**
 * Sends `rate` messages per second for `seconds`, spread over the pairs in 10 ms ticks, and
 * measures each message from send to the partner's `message:new`. A message is lost when it was
 * acked but never delivered; duplicated when a receiver gets the same client_id twice.
 */
export async function runAtRate(
  pairs: [Connected, Connected][],
  rate: number,
  seconds: number,
  runId: string,
): Promise<RateResult> {
  const sentAt = new Map<string, number>();
  const deliveredCount = new Map<string, number>();
  const latencies: number[] = [];
  let acked = 0;
  let errors = 0;

  const onMessage = (message: { client_id: string }) => {
    if (!message.client_id.startsWith(runId)) return;
    const count = (deliveredCount.get(message.client_id) ?? 0) + 1;
    deliveredCount.set(message.client_id, count);
    const start = sentAt.get(message.client_id);
    if (count === 1 && start !== undefined) latencies.push(performance.now() - start);
  };
  for (const pair of pairs) for (const side of pair) side.socket.on('message:new', onMessage);

  const tickMs = 10;
  const ticks = Math.round((seconds * 1000) / tickMs);
  let debt = 0;
  let next = 0;
  let sent = 0;
  const started = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    debt += (rate * tickMs) / 1000;
    for (; debt >= 1; debt--) {
      const pair = pairs[next % pairs.length]!;
      const sender = pair[(Math.floor(next / pairs.length) % 2) as 0 | 1];
      const clientId = `${runId}-${next++}`;
      sentAt.set(clientId, performance.now());
      sent++;
      sender.socket
        .timeout(10_000)
        .emitWithAck('message:send', {
          match_id: sender.participant.matchId,
          client_id: clientId,
          body: `bench message ${clientId}`,
        })
        .then(
          (ack: { ok: boolean }) => (ack.ok ? acked++ : errors++),
          () => errors++,
        );
    }
    const wait = started + (tick + 1) * tickMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const elapsed = (performance.now() - started) / 1000;
  // Let in-flight messages land before counting.
  const settleUntil = performance.now() + 5_000;
  while (
    performance.now() < settleUntil &&
    (acked + errors < sent || deliveredCount.size < acked)
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const pair of pairs) for (const side of pair) side.socket.off('message:new', onMessage);

  let duplicated = 0;
  for (const count of deliveredCount.values()) duplicated += count - 1;
  return {
    rate_per_s: rate,
    seconds,
    sent,
    acked,
    delivered: deliveredCount.size,
    lost: Math.max(0, acked - deliveredCount.size),
    duplicated,
    errors,
    achieved_per_s: Math.round(acked / elapsed),
    latency: summarize(latencies),
  };
}
