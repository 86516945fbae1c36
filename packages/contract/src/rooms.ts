/** Socket.IO room names: one per user (all their devices) and one per match. */
export const userRoom = (userId: number): string => `user:${userId}`;
export const matchRoom = (matchId: number): string => `match:${matchId}`;
