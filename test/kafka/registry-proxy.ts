/**
 * A TCP proxy on 127.0.0.1 in front of the real registry, for outage tests:
 * `cut()` closes the listening socket and every open connection (clients then
 * get ECONNREFUSED, as from a registry that is down), `restore()` listens on
 * the same port again. The registry itself keeps running, with its schemas
 * (its storage is in memory: a real restart would lose them).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class RegistryProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly targetPort: number,
    private port: number,
  ) {}

  /** Proxies to `targetUrl`'s port; the proxy's URL keeps `targetUrl`'s path. */
  static async start(targetUrl: string): Promise<RegistryProxy> {
    const proxy = new RegistryProxy(Number(new URL(targetUrl).port), 0);
    await proxy.restore();
    return proxy;
  }

  /** The registry URL through the proxy (same path as the target's). */
  urlFor(targetUrl: string): string {
    const url = new URL(targetUrl);
    url.port = String(this.port);
    return url.toString().replace(/\/$/, '');
  }

  get up(): boolean {
    return this.server !== undefined;
  }

  async restore(): Promise<void> {
    if (this.server !== undefined) return;
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('registry proxy: no port');
    this.port = address.port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
