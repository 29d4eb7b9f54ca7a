import { execFile } from 'node:child_process';
import { TributaryError, errorMessage } from '../errors.js';
import { readSecretFile } from '../secret-files.js';
import type { OAuthBearerConfig } from './config.js';

/** A token command's stdout beyond this is no token; cut off rather than buffered. */
const MAX_COMMAND_OUTPUT_BYTES = 64 * 1024;
/** Of a failing command's stderr, this much goes into the error: enough for its reason, too little for a dump. */
const STDERR_EXCERPT_CHARS = 300;

export interface OAuthBearerToken {
  value: string;
}

interface CachedToken {
  value: string;
  /** Epoch ms after which it is fetched again. */
  refreshAt: number;
}

/**
 * The `oauthBearerProvider` kafkajs calls on every new connection's authentication. The token is fetched
 * once and reused until it is due: a JWT `refresh_before_expiry` before its `exp`, any other token every
 * `refresh_interval`. Concurrent connections share one fetch. A failed fetch is a TributaryError naming the
 * config key; the token itself never appears in a message.
 *
 * kafkajs does not re-authenticate live connections (KIP-368), so a broker enforcing
 * `connections.max.reauth.ms` closes them at expiry and the next connection fetches a fresh token here.
 */
export function oauthBearerTokenProvider(config: OAuthBearerConfig, now: () => number = Date.now): () => Promise<OAuthBearerToken> {
  let cached: CachedToken | undefined;
  let fetching: Promise<CachedToken> | undefined;
  return async () => {
    if (cached !== undefined && now() < cached.refreshAt) return { value: cached.value };
    fetching ??= fetchToken(config, now).finally(() => {
      fetching = undefined;
    });
    cached = await fetching;
    return { value: cached.value };
  };
}

async function fetchToken(config: OAuthBearerConfig, now: () => number): Promise<CachedToken> {
  const key = config.token_file !== undefined ? 'kafka.sasl.token_file' : 'kafka.sasl.token_command';
  const value =
    config.token_file !== undefined ? await readSecretFile(config.token_file, key) : await runTokenCommand(config.token_command ?? [], config.command_timeout);
  if (value === '') throw new TributaryError('CONFIG_INVALID', `${key} gave an empty OAUTHBEARER token`);
  if (/\s/.test(value)) throw new TributaryError('CONFIG_INVALID', `${key} gave a token containing whitespace (one token expected, nothing else)`);
  const fetchedAt = now();
  const expiresAt = jwtExpiry(value);
  const refreshAt = expiresAt === undefined ? fetchedAt + config.refresh_interval : expiresAt - config.refresh_before_expiry;
  return { value, refreshAt };
}

function runTokenCommand(argv: readonly string[], timeoutMs: number): Promise<string> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new TributaryError('CONFIG_INVALID', 'kafka.sasl.token_command is empty'));
  return new Promise((resolve, reject) => {
    // No shell: the argv runs as written, so nothing in it is interpreted twice.
    execFile(command, args, { timeout: timeoutMs, maxBuffer: MAX_COMMAND_OUTPUT_BYTES, encoding: 'utf8', windowsHide: true }, (error, stdout, stderr) => {
      if (error === null) {
        resolve(stdout.trim());
        return;
      }
      // execFile's error carries the exit code as a number (ErrnoException types it as a string code only).
      const { code, killed, signal } = error as { code?: unknown; killed?: boolean; signal?: NodeJS.Signals | null };
      const why =
        killed === true && signal !== null
          ? `did not finish within ${timeoutMs} ms`
          : typeof code === 'number'
            ? `exited with ${code}`
            : `failed: ${errorMessage(error)}`;
      const excerpt = stderr.trim().slice(0, STDERR_EXCERPT_CHARS);
      reject(
        new TributaryError('CONFIG_UNREADABLE', `kafka.sasl.token_command (${command}) ${why}${excerpt ? `: ${excerpt}` : ''}`, {
          cause: error,
          retriable: true,
        }),
      );
    });
  });
}

/** The `exp` of a JWT in epoch ms, or undefined for an opaque token (or a JWT without `exp`). */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (claims === null || typeof claims !== 'object') return undefined;
    const exp = (claims as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
