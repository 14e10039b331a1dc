/**
 * Reads a request body up to a limit, and never past it: a Content-Length
 * over the limit is refused before a byte of the body is read, and a chunked
 * body stops being read at the first chunk past the limit. Either way the
 * answer is 413 with `Connection: close`; the server closes the connection
 * once the answer is sent (lingering-close.ts: what the client still sends
 * is dropped, for two seconds at most, so that it can read the answer).
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../api-errors.js';

/** Default limit of a request body: 1 MiB. */
export const defaultMaxBodyBytes = 1_048_576;

/** The header that tells the server to close the connection after answering. */
export const closeConnection: Readonly<Record<string, string>> = { Connection: 'close' };

function tooLarge(sizeText: string, limitBytes: number): HttpError {
  return new HttpError(413, 'body-too-large', `the request body is ${sizeText}; the limit is ${limitBytes} bytes: send fewer events per request`, {}, closeConnection);
}

export function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) return Promise.reject(tooLarge(`${declared} bytes (Content-Length)`, limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    const stop = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onIncomplete);
      request.off('close', onIncomplete);
    };
    const onData = (chunk: Buffer): void => {
      receivedBytes += chunk.length;
      if (receivedBytes <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      // Stop reading here: no more of the body is taken in; the connection closes after the answer.
      stop();
      request.pause();
      reject(tooLarge(`over ${limitBytes} bytes`, limitBytes));
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks, receivedBytes));
    };
    const onIncomplete = (): void => {
      stop();
      reject(new HttpError(400, 'body-incomplete', `the connection ended after ${receivedBytes} bytes of the request body: send the whole body`, {}, closeConnection));
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onIncomplete);
    request.on('close', onIncomplete);
  });
}
