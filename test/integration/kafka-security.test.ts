/**
 * Sluice on a secured Kafka: the stack broker's SASL_SSL and mutual-TLS listeners, configured the way an
 * operator would (KAFKA_SECURITY_PROTOCOL and companions, read by loadKafkaSecurity). A whole topology
 * worker (consumer group, transactional checkpoints, admin, sink) runs over SCRAM-SHA-512 on TLS; PLAIN
 * and mutual TLS carry a round trip; OAUTHBEARER refuses an expired token and takes the renewed one from
 * its file without a new client config, and gets its tokens from an issuer with client credentials; a wrong password, a missing client certificate and an untrusted
 * broker certificate are each refused with their cause.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { loadKafkaSecurity } from '../../connectors/config/kafka-security.js';
import { createKafka } from '../../connectors/kafka/client.js';
import { jsonDecoder } from '../support/json-decoder.js';
import { decodeKeyedTopology, runToCommittedEnd } from '../support/run-to-end.js';
import { createTopic, deleteTopics, produce, readAll, topologyTopics, uniqueName } from '../support/kafka.js';
import {
  clientCredentialsEnv,
  ensureLocalScramUser,
  mutualTlsBroker,
  mutualTlsEnv,
  noLocalSecuredBroker,
  oauthBearerEnv,
  saslSslBroker,
  saslSslEnv,
  tokenIssuer,
  unsecuredToken,
} from '../support/kafka-security.js';

/** A client of `broker` configured from `env` alone; failures are not retried, so refusals show at once. */
function securedKafka(broker: string, env: NodeJS.ProcessEnv, retries = 8): Kafka {
  return createKafka([broker], `sluice-security-test-${process.pid}`, {
    security: loadKafkaSecurity(env),
    retry: { retries, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/** The cluster as the client sees it, or the error that refused it. */
async function describe_(kafka: Kafka): Promise<{ ports: number[] } | { error: Error }> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return { ports: cluster.brokers.map((b) => b.port) };
  } catch (err) {
    return { error: err as Error };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Creates a topic, writes `value` and reads it back through `kafka`, then deletes the topic. */
async function assertRoundTrip(kafka: Kafka, value: string, over: string): Promise<void> {
  const topic = uniqueName('sec-roundtrip');
  await createTopic(kafka, topic, 1);
  await produce(kafka, topic, [{ key: 'k', value }]);
  assert.deepEqual(
    (await readAll(kafka, topic)).map((m) => String(m.value)),
    [value],
    `the record came back over ${over}`,
  );
  await deleteTopics(kafka, [topic]);
}

interface Event {
  id: number;
  user: string;
  ts: number;
}

describe('secured Kafka listeners', { skip: noLocalSecuredBroker }, () => {
  before(() => ensureLocalScramUser());

  it('runs a topology worker end to end over SCRAM-SHA-512 on TLS', { timeout: 120_000 }, async () => {
    const kafka = securedKafka(saslSslBroker, saslSslEnv('SCRAM-SHA-512'));
    const name = uniqueName('sec-scram');
    const source = `${name}.in`;
    const out = `${name}.out`;
    await createTopic(kafka, source, 2);
    const now = Date.now();
    const events = Array.from({ length: 2000 }, (_, i) => ({
      key: `u${i % 13}`,
      value: JSON.stringify({ id: i, user: `u${i % 13}`, ts: now - 1000 + (i % 50) }),
    }));
    await produce(kafka, source, events);
    const topology = decodeKeyedTopology(
      name,
      jsonDecoder<Event>(),
      (e) => e.ts,
      (e) => e.user,
    );
    assert.equal(await runToCommittedEnd(kafka, topology, 'w1'), undefined, 'no worker crash');
    const ids = new Set((await readAll(kafka, out)).map((m) => (JSON.parse(String(m.value)) as Event).id));
    assert.equal(ids.size, events.length, 'every event reached the sink through the secured listener');
    await deleteTopics(kafka, [source, out, ...topologyTopics(name)]);
  });

  it('PLAIN over TLS and mutual TLS carry a round trip', { timeout: 60_000 }, async () => {
    for (const [label, kafka] of [
      ['PLAIN', securedKafka(saslSslBroker, saslSslEnv('PLAIN'))],
      ['mutual TLS', securedKafka(mutualTlsBroker, mutualTlsEnv())],
    ] as const) {
      await assertRoundTrip(kafka, label, label);
    }
  });

  it(
    'OAUTHBEARER: an expired token is refused, and the renewed token in the same file carries a round trip',
    { timeout: 60_000 },
    async () => {
      const { env, tokenFile } = oauthBearerEnv(unsecuredToken('sluice', -60_000));
      const expired = await describe_(securedKafka(saslSslBroker, env, 0));
      assert.ok('error' in expired, 'an expired token is refused');
      assert.match(
        expired.error.message,
        /SASL OAUTHBEARER authentication failed: the broker refused the token: invalid_token/,
      );

      // The same settings, now reading a fresh token: what a sidecar's renewal looks like to a worker.
      writeFileSync(tokenFile, unsecuredToken('sluice', 3_600_000));
      await assertRoundTrip(securedKafka(saslSslBroker, env), 'bearer', 'OAUTHBEARER');
    },
  );

  it(
    'OAUTHBEARER with client credentials: tokens from the issuer carry a round trip; a wrong secret is refused with its reason',
    { timeout: 60_000 },
    async () => {
      const issuer = await tokenIssuer('sluice-worker', 'issuer-secret');
      try {
        const env = {
          ...clientCredentialsEnv(issuer.url, 'sluice-worker', 'issuer-secret'),
          KAFKA_SASL_OAUTHBEARER_SCOPE: 'kafka',
        };
        const over = 'OAUTHBEARER with an issued token';
        await assertRoundTrip(securedKafka(saslSslBroker, env), 'client credentials', over);
        // Admin, producer and consumer each dialled the broker; the token was asked for once for all.
        assert.equal(issuer.issued(), 1, 'one token served every connection');
        assert.equal(issuer.lastScope(), 'kafka');

        const refused = await describe_(
          securedKafka(saslSslBroker, clientCredentialsEnv(issuer.url, 'sluice-worker', 'wrong'), 0),
        );
        assert.ok('error' in refused, 'a wrong client secret gets no connection');
        assert.match(
          refused.error.message,
          /OAuth token endpoint http:\/\/127\.0\.0\.1:\d+\/token refused client 'sluice-worker' \(HTTP 401\): invalid_client/,
        );
      } finally {
        await issuer.close();
      }
    },
  );

  it(
    'refuses a wrong password, a missing client certificate and an untrusted broker',
    { timeout: 60_000 },
    async () => {
      const wrongPassword = await describe_(
        securedKafka(
          saslSslBroker,
          {
            ...saslSslEnv('SCRAM-SHA-256'),
            KAFKA_SASL_PASSWORD_FILE: undefined,
            KAFKA_SASL_PASSWORD: 'not-the-password',
          },
          0,
        ),
      );
      assert.ok('error' in wrongPassword, 'a wrong password is refused');
      assert.match(wrongPassword.error.message, /SASL SCRAM SHA256 authentication failed/i);

      const { KAFKA_SSL_CERT_FILE: _c, KAFKA_SSL_KEY_FILE: _k, ...withoutCert } = mutualTlsEnv();
      const noCert = await describe_(securedKafka(mutualTlsBroker, withoutCert, 0));
      assert.ok('error' in noCert, 'a client without a certificate is refused by the mutual-TLS listener');
      assert.match(noCert.error.message, /certificate/i);

      const { KAFKA_SSL_CA_FILE: _ca, ...untrusting } = saslSslEnv('PLAIN');
      const untrusted = await describe_(securedKafka(saslSslBroker, untrusting, 0));
      assert.ok('error' in untrusted, 'a broker certificate from an unknown CA is not trusted');
      assert.match(
        untrusted.error.message,
        /unable to verify the first certificate|self.signed|unable to get local issuer/i,
      );
    },
  );
});
