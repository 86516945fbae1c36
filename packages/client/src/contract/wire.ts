import type { ErrorBody } from './errors';

/** Wire shapes of what the servers answer and emit. Timestamps are ISO-8601 strings. */

export interface ProfileView {
  id: number;
  display_name: string;
  gender: 'male' | 'female' | 'nonbinary' | null;
  birth_date: string | null;
  city: string | null;
  interests: string[];
  bio: string | null;
  photo_url: string | null;
  is_premium: boolean;
  verification_status: 'pending' | 'approved' | 'rejected';
  created_at: string;
}

export interface MatchView {
  id: number;
  partner_id: number;
  status: 'active' | 'expired' | 'unmatched' | 'blocked';
  created_at: string;
  expires_at: string;
  message_count: number;
}

export interface MessageView {
  id: number;
  match_id: number;
  seq: number;
  /** Null once the sender deleted their account. */
  sender_id: number | null;
  client_id: string;
  body: string;
  is_secret: boolean;
  created_at: string;
}

export interface HistoryPage {
  messages: MessageView[];
  /** Pass as `before` to read the next (older) page; null at the start of the chat. */
  next_cursor: number | null;
  has_more: boolean;
}

/** Every ack: success with a payload, or the same error object REST answers with. */
export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
