import { HttpError } from '@influxdata/influxdb-client';

/**
 * The server refused lines of the batch for their content (InfluxDB's HTTP 400 "unable to parse" or "partial
 * write", 422 from 2.x): the batch is split until the refused lines stand alone, and those are dropped.
 */
export class RefusedLinesError extends Error {
  override readonly name = 'RefusedLinesError';
}

/** The request body is over the server's limit (HTTP 413): the batch is split, and no line is ever dropped for it. */
export class TooLargeError extends Error {
  override readonly name = 'TooLargeError';
}

/**
 * 400s about the request or the server rather than a line: retried like an outage, never dropped. Anchored, as a
 * refusal of a line quotes the line after its first words.
 */
const NOT_ABOUT_LINES = /^(database is required|missing db|(database|bucket|retention policy)\b[^']*not found|no dbrp|unauthori[sz]ed|authori[sz]ation|insufficient permission|invalid precision)/i;

/**
 * What a failed `/write` means for its lines: RefusedLinesError and TooLargeError as above; any other error
 * (401, 403, 404, other 4xx, 5xx, timeouts, network errors) is returned as an Error whose message names the
 * cause, and the lines stay in the spool until a retry succeeds.
 */
export function writeFailure(err: unknown): Error {
  if (!(err instanceof HttpError)) return new Error(`InfluxDB unreachable: ${err instanceof Error ? err.message : String(err)}`);
  const status = err.statusCode;
  const words = serverMessage(err);
  const said = `HTTP ${status} ${words}`;
  if ((status === 400 || status === 422) && !NOT_ABOUT_LINES.test(words)) return new RefusedLinesError(said);
  if (status === 413) return new TooLargeError(said);
  return new Error(`InfluxDB ${status >= 500 ? 'fails' : 'refuses'} writes: ${said}`);
}

/** The server's own words: `error` (1.x) or `message` (2.x, 3.x) of a JSON body, else the body or status text. */
function serverMessage(err: HttpError): string {
  const json: unknown = err.json;
  if (typeof json === 'object' && json !== null) {
    const { error, message } = json as { error?: unknown; message?: unknown };
    if (typeof error === 'string') return error;
    if (typeof message === 'string') return message;
  }
  return err.body?.trim() || err.statusMessage || '';
}
