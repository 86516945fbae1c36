import type {
  ErrorBody,
  HistoryPage,
  HistoryQuery,
  MatchView,
  ProfileInput,
  ProfileView,
} from './contract';

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

/** The REST side of the SDK: one method per endpoint, typed with the wire contract. */
export class RestClient {
  constructor(
    private readonly baseUrl: string,
    private readonly getToken: () => string | undefined,
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

  async findMatch(userId: number): Promise<MatchView> {
    const { match } = await this.request<{ match: MatchView }>('POST', '/api/mystery/find-match', {
      user_id: userId,
    });
    return match;
  }

  async myMatches(userId: number): Promise<MatchView[]> {
    const { matches } = await this.request<{ matches: MatchView[] }>(
      'GET',
      `/api/mystery/my-matches/${userId}`,
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
    const token = this.getToken();
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
