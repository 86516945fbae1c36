import type { NotificationSettings, PushSubscriptionRequest } from '@mm/contract';
import {
  deletePushSubscription,
  findNotificationSettings,
  saveNotificationSettings,
  savePushSubscription,
  type Database,
  type NotificationSettingsRow,
} from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';

/** What a user who never chose gets: every kind, no previews, no quiet hours. */
export const DEFAULT_SETTINGS: NotificationSettings = {
  kinds: { match: true, message: true, unlock: true, expiring: true },
  previews: false,
  quiet_hours: null,
};

/** The stored row as the wire shows it; no row: the defaults. */
export function toSettings(row: NotificationSettingsRow | undefined): NotificationSettings {
  if (!row) return DEFAULT_SETTINGS;
  return {
    kinds: {
      match: row.match_on,
      message: row.message_on,
      unlock: row.unlock_on,
      expiring: row.expiring_on,
    },
    previews: row.previews,
    quiet_hours:
      row.quiet_start && row.quiet_end && row.time_zone
        ? { start: row.quiet_start, end: row.quiet_end, time_zone: row.time_zone }
        : null,
  };
}

/** The devices a user registers for push, and what they want to be told. */
export class NotificationService {
  constructor(private readonly db: Kysely<Database>) {}

  /** Registers (or refreshes) a device; a device signed in to another account moves to this one. */
  async subscribe(userId: number, request: PushSubscriptionRequest) {
    const row = await needsProfile(
      savePushSubscription(this.db, userId, {
        endpoint: request.endpoint,
        p256dh: request.keys.p256dh,
        auth: request.keys.auth,
      }),
    );
    return { endpoint: row.endpoint, created_at: row.created_at.toISOString() };
  }

  /** Forgets one of the user's devices; NOT_FOUND when they have none with that endpoint. */
  async unsubscribe(userId: number, endpoint: string): Promise<void> {
    if (!(await deletePushSubscription(this.db, userId, endpoint))) {
      throw new AppError('NOT_FOUND', 'No push subscription with this endpoint.');
    }
  }

  async settings(userId: number): Promise<NotificationSettings> {
    return toSettings(await findNotificationSettings(this.db, userId));
  }

  /** Replaces every setting at once. */
  async saveSettings(userId: number, settings: NotificationSettings) {
    const row = await needsProfile(
      saveNotificationSettings(this.db, userId, {
        match_on: settings.kinds.match,
        message_on: settings.kinds.message,
        unlock_on: settings.kinds.unlock,
        expiring_on: settings.kinds.expiring,
        previews: settings.previews,
        quiet_start: settings.quiet_hours?.start ?? null,
        quiet_end: settings.quiet_hours?.end ?? null,
        time_zone: settings.quiet_hours?.time_zone ?? null,
      }),
    );
    return toSettings(row);
  }
}

/** Rows keyed to the user need their profile row: a missing one is PROFILE_REQUIRED, not a 500. */
async function needsProfile<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) {
      throw new AppError(
        'PROFILE_REQUIRED',
        'Create your profile before setting up notifications.',
      );
    }
    throw error;
  }
}

const FOREIGN_KEY_VIOLATION = '23503';
