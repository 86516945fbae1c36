import {
  findMessagesByKeys,
  insertMessageBatch,
  lockMatchesForAppend,
  type Database,
  type LockedMatch,
  type Message,
  type NewBatchMessage,
} from '@mm/db';
import type { Kysely, Transaction } from 'kysely';
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
}

/** How a message is stored in a match as it stands now: secret or not, and until when. */
export interface AppendTerms {
  isSecret: boolean;
  expiresAt: Date | null;
}

/**
 * The rule for a new message in a locked match: only while it is active and unexpired. While a
 * secret chat is active, messages are secret and expire `secretTtlMs` after they are sent.
 */
export function appendTerms(match: LockedMatch, now: Date, secretTtlMs: number): AppendTerms {
  if (match.status !== 'active' || match.expires_at.getTime() <= now.getTime()) {
    throw new AppError('MATCH_NOT_ACTIVE', 'This match has ended.', { status: match.status });
  }
  const isSecret = match.secret_chat === 'active';
  return { isSecret, expiresAt: isSecret ? new Date(now.getTime() + secretTtlMs) : null };
}

interface Pending {
  request: AppendRequest;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

export interface MessageWriterOptions {
  /** Most messages in one transaction. */
  maxBatch: number;
  /**
   * Batches written at once, each on its own connection. A match always goes through the same
   * lane, so one sender's messages keep their order while other matches' batches go in parallel.
   */
  lanes: number;
  secretTtlMs: number;
}

const keyOf = (r: { matchId: number; senderId: number; clientId: string }) =>
  `${r.matchId}:${r.senderId}:${r.clientId}`;

interface Lane {
  queue: Pending[];
  writing: boolean;
}

/**
 * Appends messages in batches (group commit). Sends that arrive while a lane's batch is being
 * written wait for its next one, so under load one transaction of a few statements stores many
 * messages, and when the service is idle a send waits only for the next turn of the event loop.
 *
 * Every guarantee of the one-by-one path holds per message: the batch locks its matches (in id
 * order, so concurrent batches here or on other pods never deadlock), seqs stay gapless and a
 * resend racing on another pod finds the original; each message is decided on its own, and one
 * refused message does not fail the others.
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
    while (lane.queue.length > 0) {
      const batch = lane.queue.splice(0, this.options.maxBatch);
      try {
        const outcomes = await this.db.transaction().execute((trx) => this.write(trx, batch));
        outcomes.forEach((outcome, i) =>
          outcome instanceof AppError ? batch[i]!.reject(outcome) : batch[i]!.resolve(outcome),
        );
      } catch (error) {
        // The transaction failed as a whole (connection lost, say): nothing of it is stored, and
        // each sender's retry with the same client_id is safe.
        batch.forEach((pending) => pending.reject(error));
      }
    }
    lane.writing = false;
  }

  private async write(
    trx: Transaction<Database>,
    batch: Pending[],
  ): Promise<(AppendResult | AppError)[]> {
    const now = new Date();
    const matches = await lockMatchesForAppend(trx, [
      ...new Set(batch.map((p) => p.request.matchId)),
    ]);
    const isParticipant = (r: AppendRequest) => {
      const match = matches.get(r.matchId);
      return match !== undefined && (match.user_a === r.senderId || match.user_b === r.senderId);
    };
    const stored = await findMessagesByKeys(trx, batch.map((p) => p.request).filter(isParticipant));
    const original = new Map(
      stored.map((m) => [
        keyOf({ matchId: m.match_id, senderId: m.sender_id!, clientId: m.client_id }),
        m,
      ]),
    );

    const nextSeq = new Map<number, number>();
    const firstInBatch = new Map<string, number>();
    const toInsert: NewBatchMessage[] = [];
    const insertIndex: (number | undefined)[] = [];
    const outcomes: (AppendResult | AppError | number)[] = batch.map(({ request }, i) => {
      if (!isParticipant(request)) return new AppError('NOT_FOUND', 'No such match.');
      const key = keyOf(request);
      const existing = original.get(key);
      if (existing) return { message: existing, created: false };
      const first = firstInBatch.get(key);
      if (first !== undefined) return first; // the same send twice in one batch: resolved below
      const match = matches.get(request.matchId)!;
      let terms: AppendTerms;
      try {
        terms = appendTerms(match, now, this.options.secretTtlMs);
      } catch (error) {
        if (error instanceof AppError) return error;
        throw error;
      }
      const seq = (nextSeq.get(match.id) ?? match.message_count) + 1;
      nextSeq.set(match.id, seq);
      firstInBatch.set(key, i);
      insertIndex[i] = toInsert.length;
      toInsert.push({ ...request, seq, ...terms });
      return i;
    });

    const inserted = await insertMessageBatch(trx, toInsert);
    const bySeq = new Map(inserted.map((m) => [`${m.match_id}:${m.seq}`, m]));
    const messageAt = (i: number) => {
      const row = toInsert[insertIndex[i]!]!;
      return bySeq.get(`${row.matchId}:${row.seq}`)!;
    };
    return outcomes.map((outcome, i) => {
      if (typeof outcome !== 'number') return outcome;
      return { message: messageAt(outcome), created: outcome === i };
    });
  }
}
