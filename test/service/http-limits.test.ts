/**
 * The HTTP API against clients that misbehave, over real sockets (node:net):
 * request targets that are not paths, JSON nested too deep, bodies over the
 * limit at any size, clients that send a byte a second, idle keep-alive
 * connections, more connections than allowed, and a batch whose every event
 * is invalid. Each answer is a 4xx the client can read (never a 500, never a
 * reset), and nothing of it is logged as a failure of the service.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TallyConfig } from '../../schemas/index.js';
import { prepareService, removeStateDir, runService, testTokens, type RunningService } from './service-fixtures.js';

let config: TallyConfig;
let running: RunningService;
let port: number;
const limits = { headersTimeoutMs: 2_000, requestTimeoutMs: 3_000, keepAliveTimeoutMs: 1_000, maxConnections: 4 };
const auth = `Authorization: Bearer ${testTokens[0]}\r\n`;

beforeAll(async () => {
  const prepared = await prepareService('http-limits', 1, []);
  config = { ...prepared, http: { ...prepared.http, ...limits } };
  running = await runService(config);
  port = Number(new URL(running.service.url).port);
});

afterAll(async () => {
  await running?.service.close();
  if (config !== undefined) await removeStateDir(config);
});

/** A raw connection: what it received, whether the server closed it, and whether it was reset. */
interface RawClient {
  readonly socket: Socket;
  received(): string;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

function rawClient(): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    // A write after the server closed fails with EPIPE or ECONNRESET: what it answered before is what counts.
    socket.on('error', () => undefined);
    const closedPromise = new Promise<void>((done) => socket.on('close', () => ((closed = true), done())));
    socket.once('connect', () => resolve({ socket, received: () => data, closed: closedPromise, isClosed: () => closed }));
    socket.once('error', reject);
  });
}

/** Sends `request` in one write and reads until the server closes (bounded). */
async function exchange(request: string | Buffer): Promise<string> {
  const client = await rawClient();
  client.socket.write(request);
  await bounded(client.closed, 20_000, 'the server to answer and close');
  return client.received();
}

async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
const bodyOf = (response: string): any => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)); // eslint-disable-line @typescript-eslint/no-explicit-any
const errorLogs = (): string[] => running.logs.filter((line) => / (error|warn) /.test(line) && !line.includes('http: refused a connection'));

/** Writes `text` one byte a second until the connection closes or `text` runs out; resolves with how many bytes were written. */
async function trickle(client: RawClient, text: string): Promise<number> {
  for (let sent = 0; sent < text.length; sent++) {
    if (client.isClosed()) return sent;
    client.socket.write(text[sent] as string);
    await Promise.race([new Promise((r) => setTimeout(r, 1_000)), client.closed]);
  }
  return text.length;
}

describe('request targets that are not a path', () => {
  it('answer 400 invalid-request-target, with nothing logged as a failure', async () => {
    const logsBefore = errorLogs().length;
    for (const target of ['//', '//v1/events', '/%', '/v1/%zz/query', 'http://[::1', 'http://', '*', '/\\evil']) {
      const response = await exchange(`GET ${target} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`);
      expect([target, statusOf(response), bodyOf(response).error.code]).toEqual([target, 400, 'invalid-request-target']);
    }
    // Node's own parser refuses these before the service sees them: a 400 all the same.
    for (const target of ['foo', 'mailto:x@y']) expect(statusOf(await exchange(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))).toBe(400);
    const absolute = await exchange(`GET http://tally.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(statusOf(absolute)).toBe(200);
    expect(errorLogs().slice(logsBefore)).toEqual([]);
  });
});

describe('JSON bodies', () => {
  it('answer 400 json-too-deep for JSON nested 100,000 levels, without parsing it', async () => {
    const logsBefore = errorLogs().length;
    for (const deep of ['['.repeat(100_000) + ']'.repeat(100_000), `[{"data":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}]`]) {
      const answer = await running.api.post('/v1/events', deep);
      expect([answer.status, answer.body?.error?.code]).toEqual([400, 'json-too-deep']);
      expect(answer.body.error.message).toContain('nested too deep');
    }
    // Brackets inside strings do not count.
    const bracketsInStrings = await running.api.post('/v1/events', JSON.stringify([{ id: '['.repeat(1_000), data: { note: '{'.repeat(1_000) } }]));
    expect([bracketsInStrings.status, bracketsInStrings.body.error.code]).toEqual([400, 'events-invalid']);
    expect(errorLogs().slice(logsBefore)).toEqual([]);
  });

  it('list the first 100 rejected events and count the rest, for a batch of 300,000 invalid ones', async () => {
    const body = `[${Array.from({ length: 300_000 }, () => '0').join(',')}]`;
    const answer = await running.api.post('/v1/events', body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('events-invalid');
    expect(answer.body.rejected).toHaveLength(100);
    expect(answer.body.rejected[99]).toMatchObject({ index: 99, reason: 'not-an-object' });
    expect(answer.body.rejectedNotListed).toBe(299_900);
    expect(answer.text.length).toBeLessThan(64 * 1024);
  });
});

describe('bodies over the limit (1 MiB)', () => {
  it('answer 413 to a Content-Length over the limit before the body is sent, then close the connection', async () => {
    for (const declared of [2 * 1_048_576, 100 * 1_048_576, 10 * 1_073_741_824]) {
      const client = await rawClient();
      client.socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n[`);
      await bounded(client.closed, 20_000, `an answer to Content-Length ${declared}`);
      expect(statusOf(client.received())).toBe(413);
      expect(client.received()).toMatch(/\r\nConnection: close\r\n/i);
      expect(bodyOf(client.received()).error).toEqual({ code: 'body-too-large', message: expect.stringContaining(`the request body is ${declared} bytes`) });
    }
  });

  /** Sends a chunked body without end: 1.5 MiB at once, then a chunk every 500 ms, never the last one. */
  async function sendEndlessChunkedBody(client: RawClient): Promise<void> {
    client.socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const chunkFrame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    for (let i = 0; i < 24; i++) client.socket.write(chunkFrame);
    const trickling = setInterval(() => client.isClosed() || client.socket.write(chunkFrame), 500);
    try {
      // Only an answer at the limit, and the connection's close, end this.
      await bounded(client.closed, 20_000, 'an answer to a chunked body over the limit');
    } finally {
      clearInterval(trickling);
    }
  }

  it('answer 413 to a chunked body as soon as it passes the limit, while the client is still sending', async () => {
    // A server that closes with the rest of the body unread resets the connection, and a reset
    // can reach the client before the answer does (a few in a hundred on loopback): every client must read its 413.
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 200; attempt++) {
      const client = await rawClient();
      await sendEndlessChunkedBody(client);
      statuses.push(statusOf(client.received()));
      if (attempt === 0) {
        expect(client.received()).toMatch(/\r\nConnection: close\r\n/i);
        expect(bodyOf(client.received()).error.code).toBe('body-too-large');
      }
    }
    expect(statuses.filter((status) => status !== 413)).toEqual([]);
  });

  it('after the 413, let a client that goes on sending read it, and cut the connection after two seconds', async () => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let received = '';
    let serverEnded = false;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('end', () => (serverEnded = true));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    await new Promise<void>((done) => socket.once('connect', () => done()));
    socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunkFrame = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(65_536, 0x20), Buffer.from('\r\n')]);
    for (let i = 0; i < 24; i++) socket.write(chunkFrame);
    const sending = setInterval(() => socket.destroyed || socket.write(chunkFrame), 100);
    try {
      await bounded(new Promise<void>((done) => { const check = setInterval(() => statusOf(received) !== 0 && (clearInterval(check), done()), 10); }), 20_000, 'the 413');
      const answeredMs = performance.now();
      await bounded(closed, 10_000, 'the server to cut the connection');
      const cutAfterMs = performance.now() - answeredMs;
      expect(statusOf(received)).toBe(413);
      expect(serverEnded).toBe(true);
      expect(cutAfterMs).toBeGreaterThan(1_000);
      expect(cutAfterMs).toBeLessThan(6_000);
    } finally {
      clearInterval(sending);
      socket.destroy();
    }
  });
});

describe('slow and idle clients', () => {
  it('cut off a client that sends its headers one byte a second (headersTimeout)', async () => {
    const client = await rawClient();
    // 34 bytes: a server without a header timeout reads them all and answers 200.
    const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    const sent = await trickle(client, request);
    await bounded(client.closed, 5_000, 'the connection to close');
    expect(sent).toBeLessThan(request.length);
    expect(statusOf(client.received())).toBe(408);
  });

  it('cut off a client that sends its body one byte a second (requestTimeout)', async () => {
    const client = await rawClient();
    // 30 bytes: a server without a request timeout reads them all and answers 400 (not an event).
    const body = '{"specversion":"1.0","id":"x"}';
    client.socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    const sent = await trickle(client, body);
    await bounded(client.closed, 5_000, 'the connection to close');
    expect(sent).toBeLessThan(body.length);
    expect(statusOf(client.received())).toBe(408);
  });

  it('close an idle keep-alive connection after keepAliveTimeout, and say so in Keep-Alive', async () => {
    const client = await rawClient();
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await bounded(client.closed, 20_000, 'the idle keep-alive connection to close');
    expect(statusOf(client.received())).toBe(200);
    expect(client.received()).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
  });
});

describe('connections', () => {
  it(`refuse connections beyond maxConnections (${limits.maxConnections}) without an answer, and take new ones once others close`, async () => {
    const open = await Promise.all(Array.from({ length: limits.maxConnections }, () => rawClient()));
    try {
      const extra = await rawClient();
      extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await bounded(extra.closed, 10_000, 'the extra connection to be closed');
      expect(extra.received()).toBe('');
    } finally {
      for (const client of open) client.socket.destroy();
    }
    await Promise.all(open.map((client) => client.closed));
    // The clients' sockets are closed on their side at once; the server sees it when its loop next reads them,
    // and may refuse one more connection before that: ask again, for at most five seconds.
    const deadline = performance.now() + 5_000;
    let after = '';
    while (statusOf(after) !== 200 && performance.now() < deadline) {
      after = await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      if (statusOf(after) !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(statusOf(after)).toBe(200);
  });
});
