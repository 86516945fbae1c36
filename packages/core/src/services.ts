import type { Database } from '@mm/db';
import type { Kysely } from 'kysely';
import { TokenService } from './auth/tokens';
import { MatchService } from './matches/match.service';
import { MessageService } from './messages/message.service';
import { Realtime, type RoomBroadcaster } from './realtime/realtime';
import { UserService } from './users/user.service';

/** What the domain needs from outside; the embedded default and scaled mode differ only here. */
export interface DomainDeps {
  db: Kysely<Database>;
  broadcaster: RoomBroadcaster;
  jwtSecret: string;
}

export type Services = ReturnType<typeof createServices>;

export function createServices(deps: DomainDeps) {
  const realtime = new Realtime(deps.broadcaster);
  const users = new UserService(deps.db);
  const matches = new MatchService(deps.db, realtime);
  const messages = new MessageService(deps.db, matches, realtime);
  return { tokens: new TokenService(deps.jwtSecret), users, matches, messages, realtime };
}
