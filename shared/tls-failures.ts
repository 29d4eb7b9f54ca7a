/**
 * What a failed TLS handshake means for the one who configured the client, by the code Node (or OpenSSL)
 * gives the error, worded once for every client (Kafka, and every HTTP client through shared/http), each
 * naming its own configuration keys.
 */

/** Where the client's settings sit in its configuration, for the message to name them. */
export interface TlsConfigKeys {
  /** The server in the message: 'the broker', 'the server'. */
  readonly peer: string;
  /** The TLS section, e.g. 'kafka.tls' or 'tls'; the message names `<tls>.ca_file`, `<tls>.server_name`, ... */
  readonly tls: string;
  /** The key holding the address(es) connected to, e.g. 'kafka.brokers' or 'endpoints'. */
  readonly address: string;
  /** What turns TLS on, e.g. 'kafka.tls.enabled' or 'the https:// scheme of endpoints'. */
  readonly tlsSwitch: string;
}

type Explain = (keys: TlsConfigKeys) => string;

const FAILURES: ReadonlyArray<[codes: readonly string[], explain: Explain]> = [
  [
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'UNABLE_TO_GET_ISSUER_CERT',
    ],
    (keys) => `${keys.peer}'s certificate is not signed by a CA the client trusts: check ${keys.tls}.ca_file`,
  ],
  [
    ['ERR_TLS_CERT_ALTNAME_INVALID'],
    (keys) => `${keys.peer}'s certificate does not name the host connected to: check ${keys.tls}.server_name and ${keys.address}`,
  ],
  [
    ['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'],
    (keys) => `${keys.peer}'s certificate is outside its validity period (check ${keys.peer}'s certificate and ${keys.tls}.ca_file)`,
  ],
  [
    [
      'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
    ],
    (keys) => `${keys.peer} refused the client certificate (mTLS): check ${keys.tls}.cert_file and ${keys.tls}.key_file`,
  ],
  [
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG'],
    (keys) => `${keys.peer} did not answer in TLS: check ${keys.tlsSwitch} and that ${keys.address} name a TLS listener`,
  ],
];

/** The explanation for a TLS error code, naming the keys to check, or undefined when the code is not a TLS failure we know. */
export function explainTlsFailure(code: string, keys: TlsConfigKeys): string | undefined {
  return FAILURES.find(([codes]) => codes.includes(code))?.[1](keys);
}

/**
 * The TLS code of a Node error: its `code`, except that a failed write during the handshake comes as
 * `EPROTO` with OpenSSL's reason only in the message (`...:SSL routines:ssl3_get_record:wrong version
 * number:...`), which is turned into the code the tls module gives the same failure elsewhere
 * (ERR_SSL_WRONG_VERSION_NUMBER).
 */
export function tlsErrorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === 'EPROTO' && typeof message === 'string') {
    const reason = /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1];
    if (reason !== undefined) return `ERR_SSL_${reason.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
  }
  return typeof code === 'string' ? code : undefined;
}
