/**
 * What the domain counts itself, because only it knows (a message stored, or a resend answered
 * with the original). `@mm/platform`'s Prometheus `Metrics` satisfies it.
 */
import type { PushMetrics } from './notifications/push-sender';

export interface DomainMetrics extends PushMetrics {
  messageSent(created: boolean): void;
}
