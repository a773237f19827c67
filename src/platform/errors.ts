/**
 * The one error type every layer throws. `expose` decides whether the message and details may reach the caller;
 * anything else (driver errors, bugs) is answered as a bare 500 INTERNAL without text from the cause.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly expose = status < 500 || status === 503,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const validationFailed = (issues: Array<{ path: string; message: string }>, message = 'request is not valid') =>
  new AppError(400, 'VALIDATION_FAILED', message, { issues });
export const unauthenticated = (message = 'a valid bearer token is required') =>
  new AppError(401, 'UNAUTHENTICATED', message);
export const forbidden = (message = 'this role may not do that') => new AppError(403, 'FORBIDDEN', message);
export const notFound = (what = 'resource') => new AppError(404, 'NOT_FOUND', `${what} not found`);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(409, code, message, details);
export const unavailable = (message = 'the database is unreachable; try again shortly') =>
  new AppError(503, 'UNAVAILABLE', message);
