/**
 * What the domain counts itself, because only it knows (a message stored, or a resend answered
 * with the original). `@mm/platform`'s Prometheus `Metrics` satisfies it.
 */
import type { PushMetrics } from './notifications/push-sender';

export interface DomainMetrics extends PushMetrics {
  messageSent(created: boolean): void;
  /** One call of the message writer stored `size` messages (resends and refusals included). */
  messageBatchWritten(size: number): void;
}
