import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogLevel } from './log-levels.js';

const { logLevel } = kafkajs;
const NOT_LEADER = 'This server is not the leader for that topic-partition';

/** The lines below are kafkajs 2.2.4's own (network/connection.js, producer/sendMessages.js, consumer/index.js). */
describe('kafkaLogLevel', () => {
  it('a fresh broker electing leaders is info: failed responses and retried requests with a leader state', () => {
    expect(kafkaLogLevel(logLevel.ERROR, 'Response ListOffsets(key: 2, version: 3)', { error: NOT_LEADER, correlationId: 4 })).toBe('info');
    expect(
      kafkaLogLevel(logLevel.ERROR, 'Response Metadata(key: 3, version: 6)', {
        error: 'There is no leader for this topic-partition as we are in the middle of a leadership election',
      }),
    ).toBe('info');
    expect(kafkaLogLevel(logLevel.ERROR, `Failed to send messages: ${NOT_LEADER}`, { retryCount: 0, retryTime: 250 })).toBe('info');
    expect(kafkaLogLevel(logLevel.ERROR, NOT_LEADER, { retryCount: 1, retryTime: 510 })).toBe('info');
  });

  it('connection churn the caller reports goes to debug', () => {
    expect(kafkaLogLevel(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9', { broker: '127.0.0.1:9' })).toBe('debug');
    expect(kafkaLogLevel(logLevel.ERROR, 'Failed to connect to seed broker, trying another broker from the list: Connection error', { retryCount: 2 })).toBe(
      'debug',
    );
  });

  it('real failures keep their level: a retried request that is not a leader state is warn, what kafkajs gives up on stays error', () => {
    expect(
      kafkaLogLevel(logLevel.ERROR, 'Failed to send messages: Connection error: connect ECONNREFUSED 127.0.0.1:9', { retryCount: 3, retryTime: 2000 }),
    ).toBe('warn');
    expect(
      kafkaLogLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', {
        error: 'The request included a message larger than the max message size the server will accept',
      }),
    ).toBe('error');
    // Retries exhausted: no retryCount, even when the last error was a leader state.
    expect(kafkaLogLevel(logLevel.ERROR, `Crash: KafkaJSNumberOfRetriesExceeded: ${NOT_LEADER}`, { groupId: 'g', retryCount: undefined })).toBe('error');
    // A denial is the exception: the group consumer reports it itself, naming the ACL to grant (and restarts).
    expect(kafkaLogLevel(logLevel.ERROR, 'Crash: KafkaJSProtocolError: Not authorized to access group', { groupId: 'g' })).toBe('debug');
    expect(kafkaLogLevel(logLevel.WARN, 'The group is rebalancing, re-joining', { groupId: 'g' })).toBe('warn');
  });
});
