/**
 * What the domain counts itself, because only it knows (a message stored, or a resend answered
 * with the original). `@mm/platform`'s Prometheus `Metrics` satisfies it.
 */
export interface DomainMetrics {
  messageSent(created: boolean): void;
}
