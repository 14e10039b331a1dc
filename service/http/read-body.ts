/**
 * Reads a request body up to a limit. A body over the limit is 413: the rest
 * is read and dropped (so the client gets the answer instead of a reset
 * connection), up to a bound past which the connection is cut.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../api-errors.js';

/** Default limit of a request body: 1 MiB. */
export const defaultMaxBodyBytes = 1_048_576;

function tooLarge(sizeText: string, limitBytes: number): HttpError {
  return new HttpError(413, 'body-too-large', `the request body is ${sizeText}; the limit is ${limitBytes} bytes: send fewer events per request`);
}

export async function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  const discardLimitBytes = Math.max(16 * limitBytes, 64 * 1_048_576);
  if (declared > discardLimitBytes) {
    request.destroy();
    throw tooLarge(`${declared} bytes`, limitBytes);
  }
  const chunks: Buffer[] = [];
  let receivedBytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    receivedBytes += chunk.length;
    if (receivedBytes > discardLimitBytes) {
      request.destroy();
      break;
    }
    if (receivedBytes <= limitBytes) chunks.push(chunk);
  }
  if (receivedBytes > limitBytes) throw tooLarge(receivedBytes > discardLimitBytes ? `over ${discardLimitBytes} bytes` : `${receivedBytes} bytes`, limitBytes);
  return Buffer.concat(chunks);
}
