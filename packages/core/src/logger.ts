/**
 * What the domain logs through: one structured line per event, its fields first. pino's `Logger`
 * (what `@mm/platform` creates) satisfies it; the domain never creates one.
 */
export interface Logger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}
