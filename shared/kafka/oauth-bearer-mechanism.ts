// kafkajs is CommonJS without ESM named exports; Node's ESM loader only sees its default export.
import kafkajs, { type Mechanism } from 'kafkajs';
import { errorMessage } from '../errors.js';
import type { OAuthBearerToken } from './oauth-token.js';

// kafkajs' typings declare this constructor without arguments, but at run time it needs the message (KafkaJSError reads e.message).
const KafkaJSSASLAuthenticationError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;

/** RFC 7628's separator (US-ASCII SOH). */
const SOH = '\u0001';

/** A SaslAuthenticate `auth_bytes` field: kafkajs writes what encode() returns as is, so the length prefix is ours. */
function bytesField(data: Buffer): Buffer {
  const field = Buffer.alloc(4 + data.length);
  field.writeInt32BE(data.length, 0);
  data.copy(field, 4);
  return field;
}

/** The server's `auth_bytes` reach decode() with their length prefix still on. */
const rawResponse = {
  decode: (raw: Buffer) => (raw.length >= 4 ? raw.subarray(4, 4 + Math.max(0, raw.readInt32BE(0))) : Buffer.alloc(0)),
  parse: (data: Buffer) => data,
};

/**
 * OAUTHBEARER as a kafkajs custom mechanism, in place of kafkajs' built-in one, which takes any answer to its
 * first message as success: a broker that refuses a token (expired, wrong audience) answers with a JSON error
 * as a challenge (RFC 7628 §3.2.2), and kafkajs then believed itself connected and failed later with
 * unrelated errors ("No brokers in the broker pool"). Here a non-empty answer is a refusal: the client sends
 * the %x01 the RFC asks for, and authentication fails with the broker's reason, as SCRAM and PLAIN do.
 */
export function oauthBearerMechanism(provider: () => Promise<OAuthBearerToken>): Mechanism {
  return {
    mechanism: 'oauthbearer',
    authenticationProvider: ({ saslAuthenticate }) => ({
      authenticate: async () => {
        const { value } = await provider();
        const initial = Buffer.from(`n,,${SOH}auth=Bearer ${value}${SOH}${SOH}`);
        const challenge = await saslAuthenticate<Buffer>({ request: { encode: () => bytesField(initial) }, response: rawResponse });
        if (challenge === undefined || challenge.length === 0) return;
        let reason = challenge.toString('utf8');
        try {
          await saslAuthenticate({ request: { encode: () => bytesField(Buffer.from(SOH)) } });
        } catch (error) {
          // The broker usually repeats its challenge as the error; anything else it says is worth keeping.
          if (errorMessage(error) !== reason) reason += `; ${errorMessage(error)}`;
        }
        throw new KafkaJSSASLAuthenticationError(`SASL OAUTHBEARER authentication failed: the broker refused the token: ${reason}`);
      },
    }),
  };
}
