import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';

/**
 * Ports and local listeners for tests, in one place: every fake server listens on 127.0.0.1 port 0 (the kernel
 * picks a free port, so parallel test files never collide), and a port to hand a child process or to refuse
 * connections comes from `freePort`.
 */

/**
 * A port that was free a moment ago (the probe listener is closed again): for a process the test starts, which
 * must be told its port, or for a "connection refused" target. Another process may take it in between; tests
 * that can pass a listener of their own use `listenLocal` instead.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Listens on a free port of 127.0.0.1 (or on `port`) and returns the port. Works for net, http and https servers. */
export async function listenLocal(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Closes a listener and every connection still open on it (an http server's keep-alive sockets would otherwise
 * hold `close` until they time out). Nothing to do for a server never started.
 */
export async function closeLocal(server: Server | undefined): Promise<void> {
  if (server === undefined || !server.listening) return;
  (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
