/**
 * Closing a connection whose request was not read to its end (a body over
 * the limit, a body cut short) without losing the answer.
 *
 * A TCP socket closed while input is still unread is reset, and the reset can
 * reach the client before the client has read the answer: a client still
 * sending a body over the limit sees "connection reset" instead of its 413.
 * So the connection closes in stages, as HTTP/1.1 asks of servers (RFC 9112,
 * "Tear-down"): the answer, then the end of the server's side (FIN), then
 * what the client still sends is read and dropped until the client closes its
 * side too, or `lingerMs` has passed — whichever comes first.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a connection may go on sending after its answer before it is cut. */
export const defaultLingerMs = 2_000;

/**
 * Makes the answer about to be sent on `response` the connection's last, closed
 * in stages. Call before `response.end()`; the answer must carry `Connection: close`.
 */
export function closeAfterAnswer(request: IncomingMessage, response: ServerResponse, lingerMs = defaultLingerMs): void {
  const socket = response.socket;
  if (socket === null) return;
  // The rest of the body is dropped as it comes: nothing stays unread in the socket.
  request.removeAllListeners('data');
  request.resume();
  // node's server ends the connection after a `Connection: close` answer with `destroySoon`
  // (end, then destroy at once, unread input or not); this socket ends and lingers instead.
  socket.destroySoon = function lingerThenClose(this: typeof socket): void {
    if (this.writable) this.end();
    if (this.destroyed) return;
    const cut = setTimeout(() => this.destroy(), lingerMs);
    this.once('close', () => clearTimeout(cut));
    // The client's end is the signal: both sides are done.
    this.once('end', () => this.destroy());
  };
}
