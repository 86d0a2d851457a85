/**
 * Starts a registry inside the current process on a Kafka topic (tests, single-process demos). Port 0 picks
 * a free port; the returned URL is ready to serve once the promise resolves.
 */
import type { Logger } from 'pino';
import { createKafka, rootLogger } from '../../connectors/kafka/client.js';
import type { Credentials } from './basic-auth.js';
import { DEFAULT_SCHEMAS_TOPIC, openKafkaSchemaLog } from './kafka-schema-log.js';
import { createRegistryServer, type RegistryServer } from './server.js';

export interface InProcessRegistryOptions {
  readonly brokers: readonly string[];
  readonly topic?: string;
  readonly port?: number;
  readonly credentials?: Credentials;
  readonly logger?: Logger;
}

export interface InProcessRegistry {
  readonly url: string;
  readonly server: RegistryServer;
  stop(): Promise<void>;
}

export async function startInProcessRegistry(options: InProcessRegistryOptions): Promise<InProcessRegistry> {
  const logger = options.logger ?? rootLogger.child({ service: 'schema-registry' });
  const kafka = createKafka(options.brokers, 'sluice-schema-registry');
  const log = await openKafkaSchemaLog(kafka, options.topic ?? DEFAULT_SCHEMAS_TOPIC, logger);
  const server = createRegistryServer({
    log,
    logger,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const url = await server.start(options.port ?? 0);
  return { url, server, stop: () => server.stop() };
}
