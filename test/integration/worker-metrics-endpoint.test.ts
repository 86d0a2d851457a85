/**
 * A worker's probe and metrics endpoint (what Kubernetes and Prometheus call): not ready before it holds
 * an assignment, ready after, /metrics counts the records it fetched, not alive once stopping.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Sink } from '../../connectors/sink.js';
import { decode } from '../../operators/decode.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { startMetricsEndpoint } from '../../topologies/runtime/metrics-endpoint.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { jsonDecoder } from '../support/json-decoder.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  produce,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';

const kafka = testKafka();
const name = uniqueName('probe');
const source = `${name}.in`;

test(
  'readyz follows the group assignment, metrics count records, healthz ends with the worker',
  { timeout: 120_000 },
  async () => {
    await createTopic(kafka, source, 2);
    const sink: Sink<{ i: number }> = {
      name: 'discard',
      async open() {
        return { async write() {}, async close() {} };
      },
    };
    const t = topology(name).from(kafkaSource(source)).pipe(decode(jsonDecoder<{ i: number }>())).to(sink);
    const worker = new TopologyWorker(t, { instanceId: 'probe', kafka, endpoints });
    const endpoint = await startMetricsEndpoint(
      { alive: () => worker.isAlive, ready: () => worker.isMember },
      0,
      '127.0.0.1',
    );
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${endpoint.port}${path}`);
      return { status: res.status, text: await res.text() };
    };
    try {
      assert.equal((await get('/readyz')).status, 503, 'not ready before joining the group');
      assert.equal((await get('/healthz')).status, 200);
      await worker.start();
      const deadline = Date.now() + 30_000;
      while ((await get('/readyz')).status !== 200) {
        assert.ok(Date.now() < deadline, 'never became ready');
        await new Promise((r) => setTimeout(r, 100));
      }
      await produce(
        kafka,
        source,
        Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) })),
      );
      await waitForCommittedEnd(kafka, name, source, 60_000);
      const metrics = await get('/metrics');
      assert.equal(metrics.status, 200);
      const counted = [
        ...metrics.text.matchAll(
          new RegExp(`^sluice_records_in_total\\{topology="${name}",partition="\\d"\\} (\\d+)`, 'gm'),
        ),
      ]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
      assert.equal(counted, 300, 'records fetched, as Prometheus would scrape them');
      assert.equal((await get('/nope')).status, 404);
    } finally {
      await worker.stop();
    }
    assert.equal((await get('/healthz')).status, 503, 'a stopped worker is not alive');
    await endpoint.close();
  },
);

after(() => deleteTopics(kafka, [source, ...topologyTopics(name)]));
