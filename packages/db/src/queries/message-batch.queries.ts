import { sql, type Transaction } from 'kysely';
import type { Database, MatchStatus, Message, SecretChatState } from '../schema';

/** The match columns a send decides on, read under the row lock. */
export interface LockedMatch {
  id: number;
  user_a: number;
  user_b: number;
  status: MatchStatus;
  expires_at: Date;
  secret_chat: SecretChatState;
  message_count: number;
}

/**
 * Locks every match of a batch, in id order so two batches never deadlock. Once this returns, no
 * other transaction can append to these matches until ours ends: seqs stay gapless and a resend
 * racing on another pod sees our rows.
 */
export async function lockMatchesForAppend(
  trx: Transaction<Database>,
  matchIds: number[],
): Promise<Map<number, LockedMatch>> {
  const rows = await trx
    .selectFrom('matches')
    .select(['id', 'user_a', 'user_b', 'status', 'expires_at', 'secret_chat', 'message_count'])
    .where('id', 'in', matchIds)
    .orderBy('id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}

export interface MessageKey {
  matchId: number;
  senderId: number;
  clientId: string;
}

/** Messages already stored under any of these (match, sender, client_id) keys: resends. */
export async function findMessagesByKeys(
  trx: Transaction<Database>,
  keys: MessageKey[],
): Promise<Message[]> {
  if (keys.length === 0) return [];
  const { rows } = await sql<Message>`
    SELECT m.* FROM messages m
    JOIN unnest(${keys.map((k) => k.matchId)}::bigint[], ${keys.map((k) => k.senderId)}::bigint[],
                ${keys.map((k) => k.clientId)}::text[]) AS k(match_id, sender_id, client_id)
      ON m.match_id = k.match_id AND m.sender_id = k.sender_id AND m.client_id = k.client_id`.execute(
    trx,
  );
  return rows;
}

export interface NewBatchMessage extends MessageKey {
  seq: number;
  body: string;
  isSecret: boolean;
  expiresAt: Date | null;
}

/**
 * Stores a batch whose seqs the caller assigned under the locks, and moves each match's
 * message_count to its highest new seq: one statement for the whole batch.
 */
export async function insertMessageBatch(
  trx: Transaction<Database>,
  messages: NewBatchMessage[],
): Promise<Message[]> {
  if (messages.length === 0) return [];
  const lastSeq = new Map<number, number>();
  for (const m of messages) lastSeq.set(m.matchId, Math.max(lastSeq.get(m.matchId) ?? 0, m.seq));
  const { rows } = await sql<Message>`
    WITH counts AS (
      UPDATE matches SET message_count = c.last_seq
      FROM unnest(${[...lastSeq.keys()]}::bigint[], ${[...lastSeq.values()]}::bigint[]) AS c(id, last_seq)
      WHERE matches.id = c.id
    )
    INSERT INTO messages (match_id, seq, sender_id, client_id, body, is_secret, expires_at)
    SELECT * FROM unnest(
      ${messages.map((m) => m.matchId)}::bigint[], ${messages.map((m) => m.seq)}::bigint[],
      ${messages.map((m) => m.senderId)}::bigint[], ${messages.map((m) => m.clientId)}::text[],
      ${messages.map((m) => m.body)}::text[], ${messages.map((m) => m.isSecret)}::boolean[],
      ${messages.map((m) => m.expiresAt)}::timestamptz[])
    RETURNING *`.execute(trx);
  return rows;
}
