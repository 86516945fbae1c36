import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

// Row types as the connection layer returns them (see connection.ts): int8 → number,
// timestamptz → Date, date → 'YYYY-MM-DD' string, jsonb → parsed JSON.

export type Gender = 'male' | 'female' | 'nonbinary';
export type VerificationStatus = 'pending' | 'approved' | 'rejected';
export type MatchStatus = 'active' | 'expired' | 'unmatched' | 'blocked';
export type SecretChatState = 'none' | 'requested' | 'active';
export type ReportStatus = 'open' | 'reviewing' | 'resolved' | 'dismissed';
export type ReportReason =
  'spam' | 'harassment' | 'inappropriate' | 'fake_profile' | 'underage' | 'other';

/** `timestamptz NOT NULL DEFAULT now()`: read as Date, may be left out on insert. */
export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** `timestamptz NOT NULL` without a default: must be given on insert. */
export type RequiredTimestamp = ColumnType<Date, Date | string, Date | string>;
/** `timestamptz NULL`. */
export type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;
/**
 * `jsonb` with a default: read back parsed, written as JSON text (the pg driver would send a JS
 * array as a Postgres array literal).
 */
export type GeneratedJson = ColumnType<unknown, string | undefined, string>;

export interface UsersTable {
  // By default, not always: ids are the identity provider's subject, inserted explicitly.
  id: Generated<number>;
  display_name: string;
  email: string | null;
  gender: Gender | null;
  /** 'YYYY-MM-DD'. */
  birth_date: string | null;
  city: string | null;
  interests: Generated<string[]>;
  bio: string | null;
  photo_url: string | null;
  is_premium: Generated<boolean>;
  premium_until: NullableTimestamp;
  verification_status: Generated<VerificationStatus>;
  /** Why a moderator rejected the profile: shown to its owner. */
  verification_note: Generated<string | null>;
  last_active_at: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface MatchesTable {
  id: Generated<number>;
  /** The smaller user id of the pair (CHECK user_a < user_b). */
  user_a: number;
  user_b: number;
  created_by: number;
  status: Generated<MatchStatus>;
  created_at: Timestamp;
  expires_at: RequiredTimestamp;
  extended_count: Generated<number>;
  message_count: Generated<number>;
  /** user_a's messages in the match; with b_message_count, what the unlock levels need. */
  a_message_count: Generated<number>;
  b_message_count: Generated<number>;
  /** The highest unlock level announced (`match:unlocked`); moved only by a conditional UPDATE. */
  unlocked_level: Generated<number>;
  secret_chat: Generated<SecretChatState>;
  secret_requested_by: number | null;
  a_last_read_seq: Generated<number>;
  b_last_read_seq: Generated<number>;
  /** Each side's last seq that reached one of its devices (delivery receipts). */
  a_last_delivered_seq: Generated<number>;
  b_last_delivered_seq: Generated<number>;
  ended_at: NullableTimestamp;
  ended_by: number | null;
  /** When the expiry warning was claimed (once, by one pod); an extension clears it. */
  expiry_warned_at: NullableTimestamp;
}

export interface MessagesTable {
  id: Generated<number>;
  match_id: number;
  seq: number;
  /** Null once the sender's account is deleted. */
  sender_id: number | null;
  client_id: string;
  /** Null once the sender took the message back (then `deleted_at` is set, and only then). */
  body: string | null;
  is_secret: Generated<boolean>;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
}

export interface BlocksTable {
  blocker_id: number;
  blocked_id: number;
  created_at: Timestamp;
}

export interface ReportsTable {
  id: Generated<number>;
  reporter_id: number | null;
  reported_user_id: number | null;
  match_id: number | null;
  message_id: number | null;
  reason: ReportReason;
  details: string | null;
  /** Snapshot of the last messages at report time. */
  evidence: GeneratedJson;
  status: Generated<ReportStatus>;
  created_at: Timestamp;
  /** How many times the reporter filed it (repeats within 24 hours fold into the open report). */
  repeat_count: Generated<number>;
  last_reported_at: Timestamp;
  resolution: ReportResolution | null;
  resolved_by: number | null;
  resolved_at: NullableTimestamp;
}

export type ReportResolution = 'dismiss' | 'warn' | 'suspend' | 'ban';
export type ModerationActionKind = ReportResolution | 'approve_profile' | 'reject_profile';

/** A user's current suspension (`until` set) or ban (`until` null). */
export interface AccountRestrictionsTable {
  user_id: number;
  kind: 'suspended' | 'banned';
  until: NullableTimestamp;
  reason: string;
  imposed_by: number;
  imposed_at: Timestamp;
}

/** Every moderator action: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE). */
export interface ModerationActionsTable {
  id: Generated<number>;
  moderator_id: number;
  action: ModerationActionKind;
  target_user_id: number | null;
  report_id: number | null;
  reason: string;
  until: NullableTimestamp;
  created_at: Timestamp;
}

/** Matches a user created per UTC day: the daily limit's counter. */
export interface DailyMatchCountsTable {
  user_id: number;
  /** 'YYYY-MM-DD' (UTC). */
  day: string;
  count: number;
}

/** An uploaded photo and its blurred renditions, rendered at upload (same content type). */
export interface UserPhotosTable {
  user_id: number;
  content_type: string;
  clear: Buffer;
  blur_50: Buffer;
  blur_25: Buffer;
  width: number;
  height: number;
  updated_at: Timestamp;
}

/** A device's Web Push subscription; the endpoint is unique across users. */
export interface PushSubscriptionsTable {
  id: Generated<number>;
  user_id: number;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: Timestamp;
}

/** A user's notification choices; no row means the defaults. */
export interface NotificationSettingsTable {
  user_id: number;
  match_on: Generated<boolean>;
  message_on: Generated<boolean>;
  unlock_on: Generated<boolean>;
  expiring_on: Generated<boolean>;
  previews: Generated<boolean>;
  /** Local 'HH:MM' in `time_zone`; both or neither. */
  quiet_start: string | null;
  quiet_end: string | null;
  /** IANA zone name. */
  time_zone: string | null;
  updated_at: Timestamp;
}

export type NotificationKind = 'match' | 'message' | 'unlock' | 'expiring';

/** A push to send, written in the transaction of the event that causes it. */
export interface NotificationOutboxTable {
  id: Generated<number>;
  user_id: number;
  match_id: number;
  kind: NotificationKind;
  /** The causing event, unique for good: the same event is never enqueued twice. */
  event_key: string;
  /** Kind 'message': messages collapsed into this row while it was pending. */
  message_count: Generated<number>;
  last_seq: number | null;
  /** Kind 'unlock': the level reached. */
  level: number | null;
  created_at: Timestamp;
  available_at: Timestamp;
  claimed_until: NullableTimestamp;
  attempts: Generated<number>;
  done_at: NullableTimestamp;
}

export interface Database {
  users: UsersTable;
  matches: MatchesTable;
  messages: MessagesTable;
  blocks: BlocksTable;
  reports: ReportsTable;
  daily_match_counts: DailyMatchCountsTable;
  user_photos: UserPhotosTable;
  external_identities: ExternalIdentitiesTable;
  entitlement_events: EntitlementEventsTable;
  push_subscriptions: PushSubscriptionsTable;
  notification_settings: NotificationSettingsTable;
  notification_outbox: NotificationOutboxTable;
  account_restrictions: AccountRestrictionsTable;
  moderation_actions: ModerationActionsTable;
}

/** An identity provider's subject and the internal user id it was given on first sight. */
export interface ExternalIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: Generated<number>;
  created_at: Timestamp;
}

/** An applied entitlement webhook event; its id is the key that refuses a replay. */
export interface EntitlementEventsTable {
  event_id: string;
  user_id: number;
  premium_until: NullableTimestamp;
  received_at: Timestamp;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;

export type Match = Selectable<MatchesTable>;
export type NewMatch = Insertable<MatchesTable>;
export type MatchUpdate = Updateable<MatchesTable>;

export type Message = Selectable<MessagesTable>;
export type NewMessage = Insertable<MessagesTable>;
export type MessageUpdate = Updateable<MessagesTable>;

export type Block = Selectable<BlocksTable>;
export type NewBlock = Insertable<BlocksTable>;
export type BlockUpdate = Updateable<BlocksTable>;

export type Report = Selectable<ReportsTable>;
export type NewReport = Insertable<ReportsTable>;
export type ReportUpdate = Updateable<ReportsTable>;

export type UserPhoto = Selectable<UserPhotosTable>;

export type PushSubscriptionRow = Selectable<PushSubscriptionsTable>;
export type NotificationSettingsRow = Selectable<NotificationSettingsTable>;
export type OutboxRow = Selectable<NotificationOutboxTable>;
