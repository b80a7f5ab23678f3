// The error a user's kernel gets when it cannot be used: a compile error, a
// broken contract (bindings, overrides, signature), a pipeline that cannot
// be created. It is a user error: the CLI prints the message without a
// stack trace, and `tessera bench` reports it as the kernel's row instead
// of stopping. Browser-safe.

export class KernelRejectedError extends Error {
  readonly isUserError = true;
  constructor(readonly kernel: string, message: string) {
    super(message);
    this.name = 'KernelRejectedError';
  }
}
