import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { HttpRequestError, ResponseTooLargeError } from './http-errors.js';

/**
 * How ./exchange.ts, and so every Tributary HTTP client (the Elasticsearch/Solr
 * transport, WebHDFS, the alert notifiers, the scrape source), reads a response
 * body: streamed, decoded as it arrives,
 * and never more than a cap in memory. Reading a whole body and then
 * gunzipping it let a 1 MB gzip answer of a misbehaving (or hostile) server
 * grow to 2.1 GB of RSS; buffering without a cap let an endless answer do the
 * same. Both the bytes received and the bytes decoded count against the cap,
 * so neither a bomb nor an endless stream of empty gzip members gets past it.
 *
 * When the cap is reached the response is destroyed (its socket is not reused)
 * and, by default, the read fails with {@link ResponseTooLargeError}; a caller
 * that only wants the start of a body (a notifier logging an error reply)
 * asks for `overflow: 'truncate'` and gets the first `maxBytes`.
 */

export interface BodyCap {
  /** The most bytes kept, and the most received on the wire. */
  readonly maxBytes: number;
  /** `fail` (default): reject with ResponseTooLargeError; `truncate`: resolve with the first `maxBytes`. */
  readonly overflow?: 'fail' | 'truncate';
  /** `METHOD url` without credentials, for the error message. */
  readonly where: string;
  /** Sees each decoded chunk as it is kept, for a caller that shows a long response while it arrives. */
  readonly onChunk?: ((chunk: Buffer) => void) | undefined;
}

/** A decoder for the response's `content-encoding`, or undefined for identity; throws for one we did not ask for. */
function decoderFor(message: IncomingMessage, where: string): NodeJS.ReadWriteStream | undefined {
  const encoding = (message.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  throw new HttpRequestError('read', where, `unsupported content-encoding "${encoding.slice(0, 40)}"`, { contentEncoding: encoding.slice(0, 40) });
}

/**
 * Reads `message` to its end (or its cap), decoding its `content-encoding`. Rejects with a
 * {@link ResponseTooLargeError} over the cap, else with an HttpRequestError (`read`) naming what failed.
 */
export async function readCappedBody(message: IncomingMessage, cap: BodyCap): Promise<Buffer> {
  const { maxBytes, where } = cap;
  const truncate = cap.overflow === 'truncate';
  let decoder: NodeJS.ReadWriteStream | undefined;
  try {
    decoder = decoderFor(message, where);
  } catch (error) {
    message.destroy();
    throw error;
  }
  // A declared length over the cap needs no reading to be refused.
  const declared = Number(message.headers['content-length']);
  if (!truncate && decoder === undefined && Number.isFinite(declared) && declared > maxBytes) {
    message.destroy();
    throw new ResponseTooLargeError(where, maxBytes, 'received');
  }
  let overflow: ResponseTooLargeError | undefined;
  let received = 0;
  // Compressed bytes count too: an endless stream of empty gzip members decodes to nothing.
  const countReceived = (chunk: Buffer): void => {
    received += chunk.length;
    if (received <= maxBytes || overflow !== undefined) return;
    overflow = new ResponseTooLargeError(where, maxBytes, 'received');
    message.destroy(overflow);
  };
  let body: Readable = message;
  if (decoder !== undefined) {
    message.on('data', countReceived);
    // pipeline (not pipe) forwards errors and destruction both ways: a reset or a timeout ends the read.
    body = pipeline(message, decoder, () => undefined) as unknown as Readable;
  }
  const chunks: Buffer[] = [];
  let kept = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (overflow !== undefined) break;
      const room = maxBytes - kept;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        kept = maxBytes;
        overflow = new ResponseTooLargeError(where, maxBytes, decoder === undefined ? 'received' : 'decoded');
        break;
      }
      chunks.push(chunk);
      kept += chunk.length;
      cap.onChunk?.(chunk);
    }
  } catch (error) {
    // Once the cap is reached, the errors of the destruction it caused are the cap's; before, a reset or a corrupt stream is itself.
    if (overflow === undefined) throw HttpRequestError.from('read', where, error, contentEncoding(message));
  } finally {
    message.off('data', countReceived);
    // Whatever stopped the loop early, nothing more is read or decoded.
    if (overflow !== undefined || !message.complete) message.destroy();
    if (body !== message && !body.destroyed) body.destroy();
  }
  if (overflow !== undefined && !truncate) throw overflow;
  return Buffer.concat(chunks, kept);
}

function contentEncoding(message: IncomingMessage): string | undefined {
  const value = message.headers['content-encoding']?.trim().toLowerCase();
  return value === '' ? undefined : value;
}
