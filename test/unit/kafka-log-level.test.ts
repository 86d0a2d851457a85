/** kafkajs' routine error responses are logged below ERROR; real failures and our own notices are not lost. */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { logLevel } from 'kafkajs';
import { kafkaLogLevel } from '../../connectors/kafka/kafka-log-level.js';

// The messages kafkajs itself attaches to broker error codes, so a changed wording fails here.
const { errorCodes } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
  errorCodes: { type: string; message: string }[];
};
const messageOf = (type: string): string => {
  const code = errorCodes.find((c) => c.type === type);
  assert.ok(code, `kafkajs has no error code ${type}`);
  return code.message;
};

test('a rebalance, a moving coordinator or leader, or topics created twice are logged at debug', () => {
  assert.equal(
    kafkaLogLevel(logLevel.ERROR, 'Response CreateTopics(key: 19, version: 3)', 'Topic creation errors'),
    'debug',
  );
  for (const type of ['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE']) {
    assert.equal(
      kafkaLogLevel(logLevel.ERROR, 'Response ListOffsets(key: 2, version: 3)', messageOf(type)),
      'debug',
    );
  }
  for (const type of ['REBALANCE_IN_PROGRESS', 'GROUP_LOAD_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP']) {
    for (const request of ['Heartbeat(key: 12, version: 3)', 'SyncGroup(key: 14, version: 3)']) {
      assert.equal(kafkaLogLevel(logLevel.ERROR, `Response ${request}`, messageOf(type)), 'debug', type);
    }
  }
});

test('any other error response stays visible at warn (its caller reports the failure itself)', () => {
  for (const type of ['TOPIC_AUTHORIZATION_FAILED', 'INVALID_PRODUCER_EPOCH', 'UNKNOWN_TOPIC_OR_PARTITION']) {
    assert.equal(
      kafkaLogLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', messageOf(type)),
      'warn',
    );
  }
});

test('errors that are not error responses stay at error, whatever they mention', () => {
  const crash = kafkaLogLevel(
    logLevel.ERROR,
    'Crash: KafkaJSNumberOfRetriesExceeded',
    messageOf('REBALANCE_IN_PROGRESS'),
  );
  assert.equal(crash, 'error');
  assert.equal(kafkaLogLevel(logLevel.ERROR, 'Failed to connect to seed broker', undefined), 'error');
});

test('the chosen notices go to debug; other warnings stay warnings; info is debug', () => {
  assert.equal(
    kafkaLogLevel(logLevel.WARN, 'KafkaJS v2.0.0 switched default partitioner', undefined),
    'debug',
  );
  assert.equal(
    kafkaLogLevel(
      logLevel.ERROR,
      'Response AddPartitionsToTxn(key: 24, version: 1)',
      'There is a concurrent operation on the same transaction',
    ),
    'debug',
  );
  assert.equal(kafkaLogLevel(logLevel.WARN, 'The group is rebalancing, re-joining', undefined), 'info');
  assert.equal(kafkaLogLevel(logLevel.WARN, 'Consumer group was not able to join', undefined), 'warn');
  assert.equal(kafkaLogLevel(logLevel.INFO, 'Consumer has joined the group', undefined), 'debug');
  assert.equal(kafkaLogLevel(logLevel.DEBUG, 'Request Fetch(key: 1, version: 11)', undefined), undefined);
});
