import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Server } from 'socket.io';
import { socketIoKey } from '@mm/core';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import { connectRedis, quitRedis, type RedisConnection, type RedisSettings } from './redis';

/**
 * How rooms cross pods (docs/design.md §5):
 * - `sharded`: Redis 7 sharded pub/sub, a channel per room (`SSUBSCRIBE` while this pod holds a
 *   socket of the room, `SPUBLISH` to it): a message reaches only the pods with a socket of its
 *   room, and on a Redis Cluster each channel lives on one shard.
 * - `classic`: `PUBLISH` on a channel per room, but every pod pattern-subscribes to all of them,
 *   so every pod receives every message of the service.
 */
export type RoomAdapterMode = 'sharded' | 'classic';

export interface RoomAdapterSettings extends RedisSettings {
  adapter: RoomAdapterMode;
}

/** The part of a Socket.IO server the adapter is set on (any event map). */
type AdaptableServer = Pick<Server, 'adapter'>;

/**
 * Shares rooms and broadcasts between the pods of the scaled system through Redis. The gateways
 * and the API pods both call it: an API pod runs a Socket.IO server that never listens, on the
 * same adapter, so `io.to(room).emit()`, `socketsJoin` and `disconnectSockets` are one code path
 * everywhere. (`@socket.io/redis-emitter` only `PUBLISH`es, which a sharded subscriber never
 * hears.)
 *
 * Every adapter message read from Redis counts in `mm_adapter_messages_received_total`: the
 * fan-out each pod pays. `onResubscribed` is called each time the subscriptions are in force
 * again after the connection dropped (and once at start): whatever was published meanwhile was
 * lost, Redis pub/sub keeps nothing for a subscriber that is away.
 */
export function attachRoomAdapter(
  io: AdaptableServer,
  settings: RoomAdapterSettings,
  logger: Logger,
  {
    metrics,
    onResubscribed,
    name = 'adapter',
  }: { metrics?: Metrics; onResubscribed?: () => void; name?: string } = {},
): { pub: RedisConnection; sub: RedisConnection; close(): Promise<void> } {
  const pub = connectRedis(settings, `${name}-pub`, logger, {
    onError: metrics?.redisErrorCounter(`${name}-pub`),
  });
  const sub = connectRedis(settings, `${name}-sub`, logger, {
    subscriber: true,
    onError: metrics?.redisErrorCounter(`${name}-sub`),
  });
  if (!sub.isCluster) writeSubscriptionsTogether(sub as Redis);
  const key = socketIoKey(settings.prefix);
  io.adapter(
    settings.adapter === 'sharded'
      ? // 'dynamic': a channel per room, except a socket's own room (its id), which is only ever
        // addressed with an ack or by a server-side emit and stays on the shared channel.
        createShardedAdapter(pub, sub, { channelPrefix: key, subscriptionMode: 'dynamic' })
      : createAdapter(pub, sub, { key }),
  );
  const received = metrics?.adapterMessagesReceived;
  if (received) {
    received.inc(0);
    for (const event of ['messageBuffer', 'pmessageBuffer', 'smessageBuffer'])
      sub.on(event, () => received.inc());
  }
  if (onResubscribed) whenResubscribed(sub, onResubscribed);
  return {
    pub,
    sub,
    async close(): Promise<void> {
      await Promise.all([quitRedis(pub), sub.quit()]);
    },
  };
}

/**
 * Calls `then` each time the subscriber's subscriptions are in force again. A single node: ioredis
 * renews them on 'ready', and a PING queued behind those (S)SUBSCRIBEs answers once they are in
 * force. A cluster: its group of per-shard subscribers says `subscribersReady` once each shard's
 * connection is back and the channels were asked for again.
 */
function whenResubscribed(sub: RedisConnection, then: () => void): void {
  if (sub.isCluster) {
    sub.on('subscribersReady', then);
    return;
  }
  sub.on('ready', () => {
    void sub.ping().then(then, () => undefined); // dropped again: the next 'ready' calls
  });
}

/**
 * The sharded adapter subscribes to each room as a socket of this pod first joins it, one
 * `SSUBSCRIBE` per room, and a subscriber connection is not auto-pipelined: each command was a
 * write of its own. After a pod's death its clients join thousands of rooms here within seconds
 * (each its user room and its match rooms, docs/design.md §5), so the commands issued in one turn
 * of the event loop are held until it ends and leave in one write. Redis runs them in the order
 * sent, as before.
 */
function writeSubscriptionsTogether(sub: Redis): void {
  const send = sub.sendCommand.bind(sub);
  let heldUntilTurnEnds = false;
  sub.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    const stream = sub.stream;
    if (!heldUntilTurnEnds && sub.status === 'ready' && stream) {
      heldUntilTurnEnds = true;
      stream.cork();
      setImmediate(() => {
        heldUntilTurnEnds = false;
        stream.uncork();
      });
    }
    return send(...args);
  };
}
