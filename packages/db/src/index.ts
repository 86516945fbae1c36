export * from './connection';
export * from './migrate';
export type * from './schema';
export * from './queries/users.queries';
export * from './queries/matches.queries';
export * from './queries/messages.queries';
export * from './queries/message-batch.queries';
