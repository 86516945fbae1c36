import { matchRoom, userRoom, type ServerToClientEvents } from '@mm/contract';

/**
 * What the domain needs from the realtime layer: emit to rooms and move sockets between rooms.
 * The shape is that of Socket.IO's `Server`: the embedded default's, a gateway's, and an API pod's
 * (one that never listens, there only for its Redis adapter).
 */
export interface RoomBroadcaster {
  to(room: string | string[]): RoomOperator;
}
export interface RoomOperator {
  except(room: string | string[]): RoomOperator;
  emit(event: string, ...args: any[]): unknown;
  socketsJoin(room: string | string[]): void;
  socketsLeave(room: string | string[]): void;
  disconnectSockets(close?: boolean): void;
}

type EventName = keyof ServerToClientEvents;
type Payload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

export class Realtime {
  constructor(private readonly target: RoomBroadcaster) {}

  /**
   * `except` leaves out one room, typically the socket that caused the event. One broadcast per
   * user: the sharded adapter gives a broadcast to one room that room's channel, heard only by the
   * pods with a socket in it, while one to several rooms goes to every pod. A socket is in one
   * user room only, so none receives the event twice.
   */
  toUsers<E extends EventName>(
    userIds: number[],
    event: E,
    payload: Payload<E>,
    except?: string,
  ): void {
    for (const userId of new Set(userIds)) {
      const operator = this.target.to(userRoom(userId));
      (except ? operator.except(except) : operator).emit(event, payload);
    }
  }

  /** `except` leaves out one room, typically the sending socket's own id. */
  toMatch<E extends EventName>(
    matchId: number,
    event: E,
    payload: Payload<E>,
    except?: string,
  ): void {
    const operator = this.target.to(matchRoom(matchId));
    (except ? operator.except(except) : operator).emit(event, payload);
  }

  /** Every socket of these users, on every pod, joins the match room. */
  joinMatch(userIds: number[], matchId: number): void {
    this.target.to(userIds.map(userRoom)).socketsJoin(matchRoom(matchId));
  }

  leaveMatch(userIds: number[], matchId: number): void {
    this.target.to(userIds.map(userRoom)).socketsLeave(matchRoom(matchId));
  }

  /** Closes every socket of these users, on every pod (their clients are told `io server disconnect`). */
  disconnectUsers(userIds: number[]): void {
    this.target.to(userIds.map(userRoom)).disconnectSockets();
  }
}

/** The Redis channel prefix of the Socket.IO adapter; every pod of a deployment uses the same. */
export const socketIoKey = (prefix: string): string => `${prefix}:socket.io`;
