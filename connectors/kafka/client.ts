/** kafkajs client construction, with its logs routed through pino and its noisy defaults tamed. */
import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import { pino, type Logger } from 'pino';
import { kafkaSecurityConfig, loadKafkaSecurity, type KafkaSecurity } from '../config/kafka-security.js';
import { registerCompressionCodecs } from './compression/index.js';
import { kafkaLogLevel } from './kafka-log-level.js';

// Every client this process makes reads all of Kafka's codecs, each with a bounded expansion.
registerCompressionCodecs();

export const rootLogger: Logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
});

function kafkaLogCreator() {
  const log = rootLogger.child({ component: 'kafkajs' });
  return ({ level, log: entry }: LogEntry) => {
    const { message, ...rest } = entry;
    const to = kafkaLogLevel(level, message, rest.error);
    if (to !== undefined) log[to](rest, message);
  };
}

/**
 * `socketFactory` lets an operator route connections (a proxy, a custom TLS setup); tests cut them with
 * it. `requestTimeout` (30 s by default) also bounds how long a silently dead connection is trusted.
 * `security` (TLS, SASL) defaults to what KAFKA_SECURITY_PROTOCOL and its companions say
 * (connectors/config/kafka-security.ts), so every client of a process authenticates alike.
 */
export function createKafka(
  brokers: readonly string[],
  clientId: string,
  options: Pick<KafkaConfig, 'socketFactory' | 'requestTimeout' | 'retry'> & {
    security?: KafkaSecurity;
  } = {},
): Kafka {
  const { security = loadKafkaSecurity(), ...rest } = options;
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
    ...kafkaSecurityConfig(security),
    ...rest,
  });
}
