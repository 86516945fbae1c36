import { setTimeout as sleep } from 'node:timers/promises';
import {
  appendMessageBatch,
  type BatchMessage,
  type BatchOutcome,
  type Database,
  type MatchAfterMessage,
  type Message,
} from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';

export interface AppendRequest {
  matchId: number;
  senderId: number;
  clientId: string;
  /** Already validated and trimmed. */
  body: string;
}

export interface AppendResult {
  message: Message;
  /** False when the client_id was stored before: the original comes back, nothing new is stored. */
  created: boolean;
  /**
   * The match right after this message, from the same statement (no second read): what masking
   * and the unlock announcement need.
   */
  match: MatchAfterMessage;
}

interface Pending {
  request: AppendRequest;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

export interface MessageWriterOptions {
  /** Most messages in one batch (one statement). */
  maxBatch: number;
  /**
   * Batches written at once, each on its own connection. A match always goes through the same
   * lane, so one sender's messages keep their order while other matches' batches go in parallel.
   */
  lanes: number;
  /**
   * Least time between the starts of two calls of a lane, in ms (0: none). Each call pays a fixed
   * cost in PostgreSQL (its commit's WAL flush, the statement's set-up) that dwarfs a message's own
   * share, so under load a lane that waits a little stores more per call; a send after a quiet
   * spell longer than this still goes out on the next turn of the event loop.
   */
  minIntervalMs?: number;
  secretTtlMs: number;
  /** Told the size of each batch written (the batch-size metric). */
  onBatch?: (size: number) => void;
}

const keyOf = (r: { matchId: number; senderId: number; clientId: string }) =>
  `${r.matchId}:${r.senderId}:${r.clientId}`;

interface Lane {
  queue: Pending[];
  writing: boolean;
  /** When its last call started (performance.now()). */
  lastCallAt: number;
}

/**
 * Appends messages in batches (group commit). Sends that arrive while a lane's batch is being
 * written wait for its next one, and the next one starts no sooner than `minIntervalMs` after the
 * last, so under load one round trip to the database stores many messages, and when the service is
 * idle a send waits only for the next turn of the event loop.
 *
 * Every guarantee of the one-by-one path holds per message: the batch locks its matches (in id
 * order, so concurrent batches here or on other pods never deadlock), seqs stay gapless and a
 * resend racing on another pod finds the original; each message is decided on its own, and one
 * refused message does not fail the others. The rules themselves run in the database
 * (`append_messages`), under the locks; this class batches, folds repeats and maps outcomes.
 */
export class MessageWriter {
  private readonly lanes: Lane[];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: MessageWriterOptions,
  ) {
    this.lanes = Array.from({ length: Math.max(1, options.lanes) }, () => ({
      queue: [],
      writing: false,
      lastCallAt: -Infinity,
    }));
  }

  append(request: AppendRequest): Promise<AppendResult> {
    const lane = this.lanes[request.matchId % this.lanes.length]!;
    return new Promise((resolve, reject) => {
      lane.queue.push({ request, resolve, reject });
      if (!lane.writing) {
        lane.writing = true;
        setImmediate(() => void this.drain(lane));
      }
    });
  }

  private async drain(lane: Lane): Promise<void> {
    const interval = this.options.minIntervalMs ?? 0;
    while (lane.queue.length > 0) {
      const wait = lane.lastCallAt + interval - performance.now();
      if (wait >= 1) await sleep(wait);
      lane.lastCallAt = performance.now();
      const batch = lane.queue.splice(0, this.options.maxBatch);
      this.options.onBatch?.(batch.length);
      await this.settle(batch);
    }
    lane.writing = false;
  }

  /**
   * Writes a batch and answers each of its sends. A statement that fails as a whole for what the
   * data holds (a PostgreSQL data exception: the edge refuses such text, so this is the net behind
   * it) is split in halves, written first half first so each match keeps its order, until the
   * faulty message stands alone and is refused by itself: no one else's send fails for it. A repeat
   * split from its original into the later half finds it stored, as a resend does.
   */
  private async settle(batch: Pending[]): Promise<void> {
    try {
      const outcomes = await this.write(batch.map((pending) => pending.request));
      outcomes.forEach((outcome, i) =>
        outcome instanceof AppError ? batch[i]!.reject(outcome) : batch[i]!.resolve(outcome),
      );
    } catch (error) {
      if (!isDataError(error)) {
        // The statement failed for the connection's sake (lost, say): nothing of it is stored,
        // and each sender's retry with the same client_id is safe.
        batch.forEach((pending) => pending.reject(error));
      } else if (batch.length === 1) {
        batch[0]!.reject(
          new AppError('VALIDATION_FAILED', 'This message cannot be stored as written.', {
            fields: [{ field: 'body', message: 'cannot be stored as written' }],
          }),
        );
      } else {
        const half = Math.ceil(batch.length / 2);
        await this.settle(batch.slice(0, half));
        await this.settle(batch.slice(half));
      }
    }
  }

  /** One statement for the batch; the same send twice in it is stored once and answered twice. */
  private async write(requests: AppendRequest[]): Promise<(AppendResult | AppError)[]> {
    const firstOf = new Map<string, number>();
    const unique: BatchMessage[] = [];
    const slot = requests.map((request) => {
      const key = keyOf(request);
      let index = firstOf.get(key);
      if (index === undefined) {
        index = unique.push(request) - 1;
        firstOf.set(key, index);
        return { index, repeat: false };
      }
      return { index, repeat: true };
    });
    const outcomes = await appendMessageBatch(this.db, unique, this.options.secretTtlMs);
    return slot.map(({ index, repeat }) => toResult(outcomes[index]!, repeat));
  }
}

function toResult(outcome: BatchOutcome, repeat: boolean): AppendResult | AppError {
  switch (outcome.outcome) {
    case 'not_found':
      return new AppError('NOT_FOUND', 'No such match.');
    case 'not_active': {
      // An active match refused here has expired: report it as such, as the sweeper will.
      const status = outcome.matchStatus === 'active' ? 'expired' : outcome.matchStatus;
      return new AppError('MATCH_NOT_ACTIVE', 'This match has ended.', { status });
    }
    default:
      return {
        message: outcome.message,
        created: outcome.outcome === 'new' && !repeat,
        match: outcome.match,
      };
  }
}

/**
 * A statement refused for its data rather than its connection: SQLSTATE class 22 (data exception:
 * a NUL in text, an invalid byte sequence, a value out of range) or 54 (program limit exceeded: a
 * value too large for an index row). Writing the same batch again would fail the same way.
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code);
}
