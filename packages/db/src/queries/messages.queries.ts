import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema';

/**
 * Locks the match row for the rest of the transaction. Sends to one match queue up here, which is
 * what makes `seq` gapless and a resend race (same client_id on two pods) resolve to one row.
 */
export function lockMatchForSend(trx: Transaction<Database>, matchId: number) {
  return trx
    .selectFrom('matches')
    .select(['id', 'user_a', 'user_b', 'status', 'expires_at', 'secret_chat'])
    .where('id', '=', matchId)
    .forUpdate()
    .executeTakeFirst();
}

export function findMessageByClientId(
  db: Kysely<Database>,
  key: { matchId: number; senderId: number; clientId: string },
) {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('match_id', '=', key.matchId)
    .where('sender_id', '=', key.senderId)
    .where('client_id', '=', key.clientId)
    .executeTakeFirst();
}

/**
 * Takes the match's next seq and stores the message under it, in one statement. Call it only while
 * holding the match's row lock (`lockMatchForSend`).
 */
export function appendMessage(
  trx: Transaction<Database>,
  message: {
    matchId: number;
    senderId: number;
    clientId: string;
    body: string;
    isSecret: boolean;
    expiresAt: Date | null;
  },
) {
  return trx
    .with('next', (db) =>
      db
        .updateTable('matches')
        .set((eb) => ({ message_count: eb('message_count', '+', 1) }))
        .where('id', '=', message.matchId)
        .returning('message_count as seq'),
    )
    .insertInto('messages')
    .columns(['match_id', 'seq', 'sender_id', 'client_id', 'body', 'is_secret', 'expires_at'])
    .expression((db) =>
      db
        .selectFrom('next')
        .select((eb) => [
          eb.val(message.matchId).as('match_id'),
          'next.seq',
          eb.val(message.senderId).as('sender_id'),
          eb.val(message.clientId).as('client_id'),
          eb.val(message.body).as('body'),
          eb.val(message.isSecret).as('is_secret'),
          eb.val(message.expiresAt).as('expires_at'),
        ]),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * One page of history, newest first, below `before` (exclusive). Reads by the (match_id, seq)
 * index, so a page costs the same at any depth. Expired secret messages are never returned.
 */
export function listMessagesBefore(
  db: Kysely<Database>,
  page: { matchId: number; before?: number; limit: number },
) {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('match_id', '=', page.matchId)
    .$if(page.before !== undefined, (qb) => qb.where('seq', '<', page.before!))
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .orderBy('seq', 'desc')
    .limit(page.limit)
    .execute();
}
