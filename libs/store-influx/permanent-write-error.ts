/** Thrown by a sender whose batch can never succeed as it is (HTTP 4xx): it is split or dropped, not retried. */
export class PermanentWriteError extends Error {
  override readonly name = 'PermanentWriteError';
}
