import { sql, type Kysely } from 'kysely';
import type { Database, Match, MatchStatus, Message } from '../schema';

export interface MessageKey {
  matchId: number;
  senderId: number;
  clientId: string;
}

export interface BatchMessage extends MessageKey {
  body: string;
}

/**
 * The match right after one message of a batch, as the same statement left it: the counts include
 * the batch's new messages of the match up to this one (a resend: up to where it stands in the
 * batch), so they are the counts at that message. `unlocked_level` is the level announced as the
 * batch found it.
 */
export interface MatchAfterMessage extends Pick<
  Match,
  'id' | 'status' | 'message_count' | 'a_message_count' | 'b_message_count' | 'unlocked_level'
> {
  /** The match's last new message of the batch: its counts are the ones the match keeps. */
  latest: boolean;
}

/** What became of one message of a batch, in the batch's order. */
export type BatchOutcome =
  | { outcome: 'new' | 'existing'; message: Message; match: MatchAfterMessage }
  | { outcome: 'not_found' }
  | { outcome: 'not_active'; matchStatus: MatchStatus };

interface OutcomeRow extends Message {
  ord: number;
  outcome: 'new' | 'existing' | 'not_found' | 'not_active';
  match_status: MatchStatus | null;
  match_total: number | null;
  match_a_count: number | null;
  match_b_count: number | null;
  match_unlocked_level: number | null;
  match_latest: boolean | null;
}

/**
 * Appends a batch of messages in one round trip through the `append_messages` function
 * (src/sql/append_messages.sql, which holds the rules): it locks the batch's matches in id order,
 * returns the original of every resent client_id, and stores the rest under each match's next
 * gapless seqs, moving the match's counts with them. Each stored or found message comes back with its match as it stood right after it.
 * Keys must be unique within the batch.
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
  return rows.map((row): BatchOutcome => {
    const {
      ord: _,
      outcome,
      match_status,
      match_total,
      match_a_count,
      match_b_count,
      match_unlocked_level,
      match_latest,
      ...message
    } = row;
    if (outcome === 'not_found') return { outcome };
    if (outcome === 'not_active') return { outcome, matchStatus: match_status! };
    return {
      outcome,
      message,
      match: {
        id: message.match_id,
        status: match_status!,
        message_count: match_total!,
        a_message_count: match_a_count!,
        b_message_count: match_b_count!,
        unlocked_level: match_unlocked_level!,
        latest: match_latest!,
      },
    };
  });
}
