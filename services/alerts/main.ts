/**
 * The alert webhook dispatcher as a process: `sluice alerts run`, or
 * `node --import tsx services/alerts/main.ts`. Configuration from the environment (webhook-config.ts);
 * KAFKA_BROKERS names the cluster; SLUICE_METRICS_PORT serves /metrics, /healthz and /readyz. SIGTERM/SIGINT
 * stop it after the alert in hand.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError, loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka, rootLogger } from '../../connectors/kafka/client.js';
import { metricsPortFromEnv, startMetricsEndpoint } from '../../topologies/runtime/metrics-endpoint.js';
import { alertsTopicFromEnv } from '../../topologies/scoring/alerts.js';
import { AlertDispatcher } from './alert-dispatcher.js';
import { loadWebhookConfig, WebhookConfigError } from './webhook-config.js';

export async function runAlertDispatcher(env: NodeJS.ProcessEnv = process.env): Promise<AlertDispatcher> {
  const config = loadWebhookConfig(env);
  const endpoints = loadEndpoints(env);
  const dispatcher = new AlertDispatcher({
    kafka: createKafka(endpoints.kafkaBrokers, 'sluice-alert-webhooks'),
    topic: alertsTopicFromEnv(env),
    config,
    logger: rootLogger.child({ component: 'alert-webhooks' }),
  });
  await dispatcher.start();
  const metricsPort = metricsPortFromEnv(env.SLUICE_METRICS_PORT);
  if (metricsPort !== undefined) {
    // Its delivery counters are how on-call learns that alerts stopped reaching them (rules.yaml).
    const endpoint = await startMetricsEndpoint(
      { alive: () => dispatcher.isAlive, ready: () => dispatcher.isMember },
      metricsPort,
    );
    rootLogger.info({ port: endpoint.port }, 'serving /metrics, /healthz, /readyz');
  }
  const stop = () =>
    void dispatcher.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return dispatcher;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runAlertDispatcher().catch((err: unknown) => {
    const known = err instanceof WebhookConfigError || err instanceof ConfigError;
    console.error(`alert webhooks: ${known ? (err as Error).message : String(err)}`);
    process.exit(1);
  });
}
