/**
 * TCP ports picked here rather than by the JVM, for servers that must know
 * them before they start (KRaft's voter list names the controller port) or
 * must come back on them after a restart (HDFS's namenode). Servers that bind
 * port 0 themselves and announce it (OpenSearch, Solr) do not race anyone.
 */
import { createServer } from 'node:net';

/**
 * Ports handed out in this process and not yet released: the OS may offer the
 * same ephemeral port twice in a row, and one set for every server kind keeps
 * a broker and a cluster started side by side off each other's ports.
 */
const reservedPorts = new Set<number>();

/** A port free on 127.0.0.1 just now and reserved in this process until releasePorts(). */
export async function pickFreePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const picked = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(picked));
      });
    });
    if (port !== 0 && !reservedPorts.has(port)) {
      reservedPorts.add(port);
      return port;
    }
  }
  throw new Error('could not pick a free TCP port on 127.0.0.1');
}

export function releasePorts(ports: readonly number[]): void {
  for (const port of ports) reservedPorts.delete(port);
}
