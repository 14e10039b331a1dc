/**
 * Reads from another instance of the service: GET on its internal API with
 * this instance's bearer token (all instances share the config's tokens).
 * Any failure is an Error whose message says what went wrong, for the
 * "partitions unavailable" answer.
 */

/** How long a peer may take to answer one internal read. */
export const peerTimeoutMs = 10_000;

export interface PeerRequest {
  /** `host:port` of the peer. */
  readonly server: string;
  readonly path: string;
  readonly params: URLSearchParams;
  /** Bearer token; undefined when the API is open. */
  readonly token: string | undefined;
}

export async function getFromPeer<T>(request: PeerRequest): Promise<T> {
  const url = `http://${request.server}${request.path}?${request.params.toString()}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: request.token === undefined ? {} : { Authorization: `Bearer ${request.token}` },
      signal: AbortSignal.timeout(peerTimeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new Error(`its owner ${request.server} is unreachable (${cause})`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text.slice(0, 200);
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`its owner ${request.server} answered ${response.status}: ${message}`);
  }
  return JSON.parse(text) as T;
}
