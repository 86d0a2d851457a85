/**
 * Sluice's built-in Confluent-compatible schema registry, for the local stack.
 *
 * Why built in: Apicurio Registry 3.x is a Quarkus app that cannot be assembled reliably from Maven artifacts
 * on these machines (and Confluent's registry is not on Maven Central), so Sluice ships this registry for the
 * local stack. Production users point SCHEMA_REGISTRY_URL at their own registry (Confluent, Apicurio's
 * ccompat API, ...); nothing else in Sluice depends on this implementation.
 *
 * Env: SCHEMA_REGISTRY_PORT (8081), SCHEMA_REGISTRY_HOST (127.0.0.1), KAFKA_BROKERS,
 * SCHEMA_REGISTRY_TOPIC (_sluice_schemas), SCHEMA_REGISTRY_BASIC_AUTH_FILE (optional, user:password lines).
 * Start: node --import tsx services/registry/main.ts
 */
import { createKafka, rootLogger } from '../../connectors/kafka/client.js';
import { ConfigError, loadEndpoints } from '../../connectors/config/endpoints.js';
import { loadCredentialsFile } from './basic-auth.js';
import { DEFAULT_SCHEMAS_TOPIC, openKafkaSchemaLog } from './kafka-schema-log.js';
import { createRegistryServer } from './server.js';

function parsePort(raw: string | undefined): number {
  const port = Number(raw ?? '8081');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`SCHEMA_REGISTRY_PORT=${raw} is not a port; e.g. SCHEMA_REGISTRY_PORT=8081`);
  }
  return port;
}

async function main(): Promise<void> {
  const logger = rootLogger.child({ service: 'schema-registry' });
  const port = parsePort(process.env.SCHEMA_REGISTRY_PORT);
  const host = process.env.SCHEMA_REGISTRY_HOST ?? '127.0.0.1';
  const topic = process.env.SCHEMA_REGISTRY_TOPIC ?? DEFAULT_SCHEMAS_TOPIC;
  const authFile = process.env.SCHEMA_REGISTRY_BASIC_AUTH_FILE;
  const credentials = authFile ? loadCredentialsFile(authFile) : undefined;
  const { kafkaBrokers } = loadEndpoints();

  const log = await openKafkaSchemaLog(createKafka(kafkaBrokers, 'sluice-schema-registry'), topic, logger);
  const server = createRegistryServer({ log, logger, ...(credentials ? { credentials } : {}) });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'schema registry stopping');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'schema registry did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const url = await server.start(port, host);
  logger.info({ url, topic, auth: Boolean(credentials) }, 'schema registry ready');
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`schema registry: ${err.message}`);
  } else {
    rootLogger.error({ err }, 'schema registry failed to start');
  }
  process.exit(1);
});
