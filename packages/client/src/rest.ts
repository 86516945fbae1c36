import type {
  BlockRequest,
  DiscoveryCard,
  DiscoveryPage,
  DiscoveryScrollQuery,
  ErrorBody,
  FindMatchRequest,
  HistoryPage,
  HistoryQuery,
  MatchView,
  MessageView,
  NotificationSettings,
  OnlineStatus,
  PushConfigView,
  PushSubscriptionRequest,
  ProfileInput,
  ProfileView,
  ReportRequest,
  ReportView,
  SendMessageRequest,
  UserStats,
} from '@mm/contract';
import { currentToken, type TokenSource } from './token.js';

/** Find-match filters: everything of the request but the caller's id. */
export type MatchFilters = Omit<FindMatchRequest, 'user_id'>;

/** A non-2xx answer: the server's error object, with the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: ErrorBody,
  ) {
    super(`${status} ${error.code}: ${error.message}`);
    this.name = 'ApiError';
  }
}

/**
 * The REST side of the SDK: one method per endpoint, typed with the wire contract. The caller is
 * who the token names: methods about the caller use the `/me` paths and leave `user_id` out of
 * bodies. An explicit user id, where a method still takes one, must be the caller's (403 if not).
 */
export class RestClient {
  /**
   * @param token the JWT, or a (possibly async) function asked for it before every request;
   *   none for `devToken`.
   */
  constructor(
    private readonly baseUrl: string,
    private readonly token?: TokenSource,
  ) {}

  /** Development only: the server must run with DEV_TOKENS on. */
  async devToken(userId: number): Promise<string> {
    const { token } = await this.request<{ token: string }>('POST', '/api/auth/dev-token', {
      user_id: userId,
    });
    return token;
  }

  saveProfile(profile: ProfileInput): Promise<ProfileView> {
    return this.request('PUT', '/api/users/me', profile);
  }

  /** Deletes the caller's account for good; calling it again changes nothing. */
  async deleteAccount(): Promise<void> {
    await this.request('DELETE', '/api/users/delete-account');
  }

  /** A new match for the caller, among the users these filters let through. */
  findMatch(filters?: MatchFilters): Promise<MatchView>;
  /** @deprecated The token names the caller: pass only the filters. */
  findMatch(userId: number, filters?: MatchFilters): Promise<MatchView>;
  async findMatch(first?: number | MatchFilters, second: MatchFilters = {}): Promise<MatchView> {
    const body: FindMatchRequest =
      typeof first === 'number' ? { ...second, user_id: first } : { ...first };
    const { match } = await this.request<{ match: MatchView }>(
      'POST',
      '/api/mystery/find-match',
      body,
    );
    return match;
  }

  extendMatch(matchId: number): Promise<MatchView> {
    return this.matchAction('/api/mystery/extend-match', { match_id: matchId });
  }

  unmatch(matchId: number): Promise<MatchView> {
    return this.matchAction('/api/mystery/unmatch', { match_id: matchId });
  }

  requestSecretChat(matchId: number): Promise<MatchView> {
    return this.matchAction('/api/mystery/request-secret-chat', { match_id: matchId });
  }

  acceptSecretChat(matchId: number): Promise<MatchView> {
    return this.matchAction(`/api/mystery/accept-secret-chat/${matchId}`);
  }

  async block(blockedUserId: number): Promise<void> {
    await this.request('POST', '/api/mystery/block', {
      blocked_user_id: blockedUserId,
    } satisfies BlockRequest);
  }

  async unblock(blockedUserId: number): Promise<void> {
    await this.request('POST', '/api/mystery/unblock', {
      blocked_user_id: blockedUserId,
    } satisfies BlockRequest);
  }

  async report(report: ReportRequest): Promise<ReportView> {
    const { report: stored } = await this.request<{ report: ReportView }>(
      'POST',
      '/api/mystery/report',
      report,
    );
    return stored;
  }

  /** A message over REST; a resend with the same client_id returns the original. */
  async sendMessage(message: SendMessageRequest): Promise<MessageView> {
    const { message: stored } = await this.request<{ message: MessageView }>(
      'POST',
      '/api/mystery/send-message',
      message,
    );
    return stored;
  }

  /**
   * Takes back one of the caller's own messages within the unsend window; answers its tombstone
   * (`deleted: true`, `body: null`). Repeating it answers the same tombstone.
   */
  async deleteMessage(matchId: number, seq: number): Promise<MessageView> {
    const { message } = await this.request<{ message: MessageView }>(
      'DELETE',
      `/api/mystery/chat/${matchId}/messages/${seq}`,
    );
    return message;
  }

  /** The caller's stats; `userId` (deprecated) takes the seed path, which must name the caller. */
  stats(userId?: number): Promise<UserStats> {
    return this.request('GET', `/api/mystery/stats/${userId ?? 'me'}`);
  }

  /** The presence of the caller's partner in the match; `userId` (deprecated): as for `stats`. */
  onlineStatus(matchId: number, userId?: number): Promise<OnlineStatus> {
    return this.request('GET', `/api/mystery/chat/online-status/${matchId}/${userId ?? 'me'}`);
  }

  /** A page of discovery cards; pass the previous page's `next_cursor` as `cursor`. */
  scrollProfiles(query: DiscoveryScrollQuery = {}): Promise<DiscoveryPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined)
        params.set(key, Array.isArray(value) ? value.join(',') : String(value));
    }
    const suffix = params.size > 0 ? `?${params}` : '';
    return this.request('GET', `/api/v1/matching/profiles/scroll${suffix}`);
  }

  /** Discovery cards by their `ref` (at most 50); refs the caller may not use are left out. */
  async profilesBatch(refs: string[]): Promise<DiscoveryCard[]> {
    const { profiles } = await this.request<{ profiles: DiscoveryCard[] }>(
      'GET',
      `/api/v1/matching/profiles/batch?profile_ids=${refs.join(',')}`,
    );
    return profiles;
  }

  /** Whether the server pushes, and the VAPID public key to subscribe with (no token needed). */
  pushConfig(): Promise<PushConfigView> {
    return this.request('GET', '/api/push/config');
  }

  /**
   * Registers this device for push notifications: what a browser's `PushSubscription.toJSON()`
   * gives (subscribed with the server's VAPID public key as `applicationServerKey`).
   */
  subscribePush(
    subscription: PushSubscriptionRequest,
  ): Promise<{ endpoint: string; created_at: string }> {
    return this.request('POST', '/api/users/me/push-subscriptions', subscription);
  }

  /** Forgets this device (its endpoint): no more pushes to it. */
  async unsubscribePush(endpoint: string): Promise<void> {
    await this.request('DELETE', '/api/users/me/push-subscriptions', { endpoint });
  }

  /** Which kinds are pushed, message previews, quiet hours; the defaults until saved. */
  notificationSettings(): Promise<NotificationSettings> {
    return this.request('GET', '/api/users/me/notification-settings');
  }

  saveNotificationSettings(settings: NotificationSettings): Promise<NotificationSettings> {
    return this.request('PUT', '/api/users/me/notification-settings', settings);
  }

  private async matchAction(path: string, body?: { match_id: number }): Promise<MatchView> {
    const { match } = await this.request<{ match: MatchView }>('POST', path, body);
    return match;
  }

  /** The caller's matches; `userId` (deprecated): as for `stats`. */
  async myMatches(userId?: number): Promise<MatchView[]> {
    const { matches } = await this.request<{ matches: MatchView[] }>(
      'GET',
      `/api/mystery/my-matches/${userId ?? 'me'}`,
    );
    return matches;
  }

  history(matchId: number, query: HistoryQuery = {}): Promise<HistoryPage> {
    const params = new URLSearchParams();
    if (query.before !== undefined) params.set('before', String(query.before));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const suffix = params.size > 0 ? `?${params}` : '';
    return this.request('GET', `/api/mystery/chat/${matchId}${suffix}`);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await currentToken(this.token);
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(token && { authorization: `Bearer ${token}` }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const payload = (await response.json().catch(() => undefined)) as unknown;
    if (!response.ok) {
      const error = (payload as { error?: ErrorBody } | undefined)?.error;
      throw new ApiError(
        response.status,
        error ?? { code: 'INTERNAL', message: response.statusText },
      );
    }
    return payload as T;
  }
}
