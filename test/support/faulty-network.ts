/**
 * A kafkajs socket factory whose connections the test can cut, as a broker restart or a network partition
 * would: open connections are reset, and new ones are refused until the outage ends. Everything else is a
 * real socket to the real broker.
 */
import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

export class FaultyNetwork {
  private readonly open = new Set<net.Socket>();
  private readonly silenced = new Set<net.Socket>();
  private downUntil = 0;
  /** Connections refused or reset by an outage, to show that one really happened. */
  failedConnections = 0;

  readonly socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    if (Date.now() < this.downUntil) {
      this.failedConnections += 1;
      // Port 1 on loopback is closed: the connect fails with ECONNREFUSED, as with a broker that is down.
      return net.connect({ host: '127.0.0.1', port: 1 }, onConnect);
    }
    const socket = net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    return socket;
  };

  /**
   * Makes every open connection silent for good, as when the broker's host vanishes without a reset (a
   * node failure): writes go nowhere, nothing comes back, and no error is raised. New connections work.
   */
  blackhole(): void {
    for (const socket of this.open) {
      this.failedConnections += 1;
      socket.write = ((...args: unknown[]) => {
        const done = args.find((a) => typeof a === 'function') as (() => void) | undefined;
        done?.();
        return true;
      }) as typeof socket.write;
      const emit = socket.emit.bind(socket);
      socket.emit = ((event: string | symbol, ...args: unknown[]) =>
        event === 'data' ? false : emit(event, ...args)) as typeof socket.emit;
      this.open.delete(socket);
      this.silenced.add(socket);
    }
  }

  /** Connections still open (silenced ones aside), once those closing have had up to `withinMs` to close. */
  async openAfter(withinMs: number): Promise<number> {
    const deadline = Date.now() + withinMs;
    while (this.open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.open.size;
  }

  /**
   * Ends every connection once the test is done: the silenced ones with ETIMEDOUT, as TCP itself does
   * once its retransmissions run out (many minutes on Linux), and any other still open, so that a failed
   * test does not also hang.
   */
  closeAll(): void {
    for (const socket of this.silenced) {
      socket.destroy(Object.assign(new Error('read ETIMEDOUT (injected)'), { code: 'ETIMEDOUT' }));
    }
    this.silenced.clear();
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  /** Resets every open connection and refuses new ones for `ms`. */
  cut(ms: number): void {
    this.downUntil = Date.now() + ms;
    for (const socket of this.open) {
      this.failedConnections += 1;
      // What the client sees when the peer resets the connection (kafkajs listens for 'error' and 'end',
      // not 'close', so a bare local destroy would leave its requests waiting for their timeouts).
      socket.destroy(Object.assign(new Error('read ECONNRESET (injected)'), { code: 'ECONNRESET' }));
    }
  }
}
