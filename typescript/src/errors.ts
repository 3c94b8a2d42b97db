/**
 * The one error type the constructs throw for anything a user can fix: what went wrong, the tool
 * output that explains it, then a `fix:` line, all in the message (CDK and Node show only the
 * message).
 */
export class RustLambdaCdkError extends Error {
  /** What to do about it ('' when the details already end with the tool's own fix line). */
  public readonly fix: string;
  /** Tool output that explains the failure (cargo's diagnostics), if any. */
  public readonly details?: string;

  constructor(message: string, fix: string, details?: string) {
    const lines = [message, details?.trimEnd(), fix ? `fix: ${fix}` : ''];
    const text = lines.filter((part) => !!part).join('\n');
    super(text);
    this.name = 'RustLambdaCdkError';
    this.fix = fix;
    this.details = details;
  }
}
