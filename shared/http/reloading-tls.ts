import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import { filesVersion, watchFileReload } from '../file-reload.js';
import type { Logger } from '../telemetry/logger.js';
import { tlsAgentOptions, type HttpTlsConfig, type TlsClientOptions } from './tls.js';

/**
 * The HTTP clients' TLS files (`ca_file`, `cert_file`, `key_file` of the outputs, the notifiers and the scrape
 * jobs), re-read through the shared watcher (../file-reload.ts) when they change, as Kafka's and the telemetry
 * server's are: a rotated CA or client certificate reaches new connections without a restart, and a half-finished
 * renewal (a new certificate beside the old key) is not loaded until the pair matches again.
 */

/** How often the files are checked: as `kafka.tls.reload_interval`'s default. */
export const HTTP_TLS_RELOAD_INTERVAL_MS = 10_000;

export interface TlsReloadSettings {
  /** Defaults to {@link HTTP_TLS_RELOAD_INTERVAL_MS}; tests shorten it. */
  readonly intervalMs?: number | undefined;
  /** Where a reload, or a changed file that cannot be loaded, is said; without it, nothing is. */
  readonly logger?: Logger | undefined;
}

type TlsFiles = Pick<HttpTlsConfig, 'ca_file' | 'cert_file' | 'key_file' | 'server_name' | 'insecure_skip_verify'>;

function tlsPaths(tls: TlsFiles | undefined): string[] {
  return [tls?.ca_file, tls?.cert_file, tls?.key_file].filter((path): path is string => path !== undefined);
}

/**
 * The TLS options of a config's `tls` keys as they are now. Read at open(), so a missing file fails the start
 * naming its key (`keyPrefix`); then re-read when the files change, for as long as the object is not closed.
 */
export class ReloadingTlsOptions {
  private stopWatching: () => void = () => undefined;
  private applied: (options: TlsClientOptions) => void = () => undefined;

  private constructor(private current: TlsClientOptions) {}

  static async open(tls: TlsFiles | undefined, keyPrefix: string, settings: TlsReloadSettings = {}): Promise<ReloadingTlsOptions> {
    const paths = tlsPaths(tls);
    // The version before the read: a file replaced while it is read is read again at the first check.
    const version = paths.length === 0 ? '' : await filesVersion(paths).catch(() => '');
    const reloading = new ReloadingTlsOptions(await tlsAgentOptions(tls, keyPrefix));
    if (paths.length === 0) return reloading;
    const { logger } = settings;
    reloading.stopWatching = watchFileReload({
      paths,
      initialVersion: version,
      intervalMs: settings.intervalMs ?? HTTP_TLS_RELOAD_INTERVAL_MS,
      load: async () => {
        const options = await tlsAgentOptions(tls, keyPrefix);
        // What rejects a certificate beside a key it does not match, or a file that is no PEM, before any use.
        createSecureContext({ ca: options.ca, cert: options.cert, key: options.key });
        return options;
      },
      apply: (options) => {
        reloading.current = options;
        reloading.applied(options);
      },
      onReloaded: () => logger?.info({ tls: keyPrefix }, 'TLS files reloaded; new connections use them'),
      onFailed: (message) => logger?.warn({ tls: keyPrefix, err: message }, 'TLS files changed but cannot be loaded; new connections keep the previous ones'),
    });
    return reloading;
  }

  /** What else follows a reload (an agent made from the options). */
  onApplied(listener: (options: TlsClientOptions) => void): void {
    this.applied = listener;
  }

  /** For a request of its own (no agent): the files as last loaded. */
  get options(): TlsClientOptions {
    return this.current;
  }

  close(): void {
    this.stopWatching();
  }
}

/**
 * A keep-alive https.Agent whose TLS options follow the files: on a reload a new agent takes the new connections,
 * and the old one is retired, so requests in flight (or queued on it) finish on their connection, which is then
 * closed instead of kept for reuse.
 */
export class ReloadingHttpsAgent {
  /** Agents replaced while requests were still on them: destroyed at close() if they still hold some. */
  private readonly retired = new Set<HttpsAgent>();

  private constructor(
    private current: HttpsAgent,
    private readonly tls: ReloadingTlsOptions,
  ) {}

  static async open(tls: TlsFiles | undefined, keyPrefix: string, agentOptions: AgentOptions, settings: TlsReloadSettings = {}): Promise<ReloadingHttpsAgent> {
    const options = await ReloadingTlsOptions.open(tls, keyPrefix, settings);
    const agent = new ReloadingHttpsAgent(new HttpsAgent({ ...agentOptions, ...options.options }), options);
    options.onApplied((reloaded) => agent.replace(new HttpsAgent({ ...agentOptions, ...reloaded })));
    return agent;
  }

  /** The agent for a request starting now. */
  get agent(): HttpsAgent {
    return this.current;
  }

  private replace(next: HttpsAgent): void {
    const old = this.current;
    this.current = next;
    this.retired.add(old);
    // Sockets that finish their request are closed (documented Agent hook), idle ones now.
    old.keepSocketAlive = () => false;
    for (const sockets of Object.values(old.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    // Agents retired earlier whose last request has ended hold nothing any more.
    for (const agent of this.retired) if (Object.keys(agent.sockets).length === 0 && Object.keys(agent.requests).length === 0) this.retired.delete(agent);
  }

  close(): void {
    this.tls.close();
    this.current.destroy();
    for (const old of this.retired) old.destroy();
    this.retired.clear();
  }
}
