import { ZodError } from 'zod';
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '@mm/client/contract';

/** The one error the domain throws: a code from the contract, a message for people, details for code. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.details && { details: this.details }),
    };
  }

  toJSON(): { error: ErrorBody } {
    return { error: this.toBody() };
  }
}

/**
 * Any thrown value as the error a client may see: validation failures name their fields; anything
 * unexpected becomes INTERNAL, so no internal message leaks.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) {
    const fields = error.issues.map((issue) => ({
      field: issue.path.join('.'),
      message: issue.message,
    }));
    const names = fields.map((f) => f.field || '(body)').join(', ');
    return new AppError('VALIDATION_FAILED', `Invalid request: ${names}.`, { fields });
  }
  return new AppError('INTERNAL', 'Something went wrong on our side.');
}
