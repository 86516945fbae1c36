import { backoffDelay, RECONNECT, SEND_RETRY } from '../src/chat-client';
import { RETRYABLE_CODES, RETRYABLE_SEND_CODES } from '@mm/contract';

describe('the SDK outbox retry policy', () => {
  it('when the refusal is a limit, an outage or an internal error, then the send is retried; a refusal for good is not', () => {
    expect([...RETRYABLE_CODES].sort()).toEqual(['RATE_LIMITED', 'UNAVAILABLE']);
    expect([...RETRYABLE_SEND_CODES].sort()).toEqual(['INTERNAL', 'RATE_LIMITED', 'UNAVAILABLE']);
    for (const final of ['MATCH_NOT_ACTIVE', 'VALIDATION_FAILED', 'NOT_FOUND'] as const)
      expect(RETRYABLE_SEND_CODES).not.toContain(final);
  });

  it('when it is refused again and again, then the wait doubles from 500 ms and stops at 10 s', () => {
    const middle = () => 0.5; // no jitter
    const waits = [0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, middle, SEND_RETRY));
    expect(waits).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
  });

  it('when many clients are refused together, then their waits spread over ±50 %', () => {
    expect(backoffDelay(1, () => 0, SEND_RETRY)).toBe(500);
    expect(backoffDelay(1, () => 1, SEND_RETRY)).toBe(1_500);
    // Reconnects keep their own policy.
    expect(backoffDelay(0, () => 0.5)).toBe(RECONNECT.minMs);
  });
});
