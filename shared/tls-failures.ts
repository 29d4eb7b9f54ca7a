/**
 * What a failed TLS handshake means for the one who configured the client, by
 * the code Node (or OpenSSL) gives the error, worded once for every client
 * (Kafka in ./kafka/errors.ts, the HTTP clients in ./http/exchange.ts) so each
 * names the configuration key to fix instead of quoting OpenSSL alone.
 */

export type TlsFailureKind = 'unknown_ca' | 'wrong_name' | 'expired' | 'client_certificate_refused' | 'not_tls';

const KINDS: ReadonlyArray<[kind: TlsFailureKind, codes: readonly string[]]> = [
  [
    'unknown_ca',
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'UNABLE_TO_GET_ISSUER_CERT',
    ],
  ],
  ['wrong_name', ['ERR_TLS_CERT_ALTNAME_INVALID']],
  ['expired', ['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']],
  [
    'client_certificate_refused',
    [
      'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
    ],
  ],
  ['not_tls', ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']],
];

export interface TlsFailure {
  readonly kind: TlsFailureKind;
  /** Node's or OpenSSL's code, e.g. `SELF_SIGNED_CERT_IN_CHAIN`. */
  readonly code: string;
  /** The error's own message, e.g. `self-signed certificate in certificate chain`. */
  readonly message: string;
}

/** The TLS failure in `error` or its causes (up to 8 deep), or undefined when it is none. */
export function tlsFailure(error: unknown): TlsFailure | undefined {
  let candidate: unknown = error;
  for (let depth = 0; depth < 8 && candidate !== null && typeof candidate === 'object'; depth++) {
    const { code, message, cause } = candidate as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string') {
      const match = KINDS.find(([, codes]) => codes.includes(code));
      if (match !== undefined) return { kind: match[0], code, message: String(message) };
      // node:https reports a peer that does not speak TLS as a bare EPROTO with OpenSSL's reason in the message.
      if (code === 'EPROTO' && /wrong version number|packet length too long/.test(String(message))) return { kind: 'not_tls', code, message: String(message) };
    }
    candidate = cause;
  }
  return undefined;
}

/** How the client that failed is configured, for the explanation: who it talks to and under which keys. */
export interface TlsFailureKeys {
  /** The other side, e.g. `broker`, `server`. */
  readonly peer: string;
  /** Where the TLS settings sit, e.g. `kafka.tls`, `outputs.solr.tls`. */
  readonly tls: string;
  /** The key naming the host connected to, e.g. `kafka.brokers`, `outputs.solr.endpoints`. */
  readonly address: string;
  /** What to check when the peer did not answer in TLS at all. */
  readonly notTls: string;
}

/** One sentence naming the key to check, e.g. `the server's certificate is not signed by a CA the client trusts: check outputs.solr.tls.ca_file`. */
export function explainTlsFailure(kind: TlsFailureKind, keys: TlsFailureKeys): string {
  const { peer, tls, address } = keys;
  switch (kind) {
    case 'unknown_ca':
      return `the ${peer}'s certificate is not signed by a CA the client trusts: check ${tls}.ca_file`;
    case 'wrong_name':
      return `the ${peer}'s certificate does not name the host connected to: check ${tls}.server_name and ${address}`;
    case 'expired':
      return `the ${peer}'s certificate is outside its validity period (check the ${peer}'s certificate and ${tls}.ca_file)`;
    case 'client_certificate_refused':
      return `the ${peer} refused the client certificate (mTLS): check ${tls}.cert_file and ${tls}.key_file`;
    case 'not_tls':
      return `the ${peer} did not answer in TLS: ${keys.notTls}`;
  }
}
