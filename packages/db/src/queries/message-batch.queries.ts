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
  return rows.map(toOutcome);
}

/**
 * One row as the caller's outcome. The message is built field by field rather than by rest
 * destructuring: every message sent goes through here, and a rest copy is the slower path.
 */
function toOutcome(row: OutcomeRow): BatchOutcome {
  const { outcome } = row;
  if (outcome === 'not_found') return { outcome };
  if (outcome === 'not_active') return { outcome, matchStatus: row.match_status! };
  const message: Message = {
    id: row.id,
    match_id: row.match_id,
    seq: row.seq,
    sender_id: row.sender_id,
    client_id: row.client_id,
    body: row.body,
    is_secret: row.is_secret,
    created_at: row.created_at,
    expires_at: row.expires_at,
    deleted_at: row.deleted_at,
  };
  return {
    outcome,
    message,
    match: {
      id: row.match_id,
      status: row.match_status!,
      message_count: row.match_total!,
      a_message_count: row.match_a_count!,
      b_message_count: row.match_b_count!,
      unlocked_level: row.match_unlocked_level!,
      latest: row.match_latest!,
    },
  };
}
