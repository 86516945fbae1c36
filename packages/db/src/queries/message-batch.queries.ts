import { sql, type Kysely } from 'kysely';
import type { Database, MatchStatus, Message } from '../schema';

export interface MessageKey {
  matchId: number;
  senderId: number;
  clientId: string;
}

export interface BatchMessage extends MessageKey {
  body: string;
}

/** What became of one message of a batch, in the batch's order. */
export type BatchOutcome =
  | { outcome: 'new' | 'existing'; message: Message }
  | { outcome: 'not_found' }
  | { outcome: 'not_active'; matchStatus: MatchStatus };

interface OutcomeRow extends Message {
  ord: number;
  outcome: 'new' | 'existing' | 'not_found' | 'not_active';
  match_status: MatchStatus | null;
}

/**
 * Appends a batch of messages in one round trip through the `append_messages` function (see its
 * migration): it locks the batch's matches in id order, returns the original of every resent
 * client_id, and stores the rest under each match's next gapless seqs, moving message_count with
 * them. Keys must be unique within the batch.
 */
export async function appendMessageBatch(
  db: Kysely<Database>,
  messages: BatchMessage[],
  secretTtlMs: number,
): Promise<BatchOutcome[]> {
  if (messages.length === 0) return [];
  const { rows } = await sql<OutcomeRow>`
    SELECT * FROM append_messages(
      ${messages.map((m) => m.matchId)}::bigint[], ${messages.map((m) => m.senderId)}::bigint[],
      ${messages.map((m) => m.clientId)}::text[], ${messages.map((m) => m.body)}::text[],
      ${secretTtlMs}::bigint)`.execute(db);
  return rows.map(({ ord: _, outcome, match_status, ...message }): BatchOutcome => {
    if (outcome === 'not_found') return { outcome };
    if (outcome === 'not_active') return { outcome, matchStatus: match_status! };
    return { outcome, message };
  });
}
