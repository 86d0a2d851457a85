/**
 * A changelog must be compacted and nothing else. With time-based deletion ('delete', or 'compact,delete')
 * the broker drops a key's state, and the partition's position record, once they are older than
 * retention.ms, and the next restore silently starts from less than was committed. Workers create the
 * changelog compacted; this catches one that was created otherwise (by hand, by broker auto-creation).
 */
import kafkajs, { type Admin } from 'kafkajs';
import { partitionCount, TopicConfigError } from './topics.js';

const TOPIC = kafkajs.ConfigResourceTypes.TOPIC;

async function topicConfig(admin: Admin, topic: string) {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: TOPIC, name: topic }],
  });
  return resources[0]?.configEntries ?? [];
}

/** A topic's cleanup.policy (Kafka's default is 'delete'). */
const policyOf = (entries: Awaited<ReturnType<typeof topicConfig>>) =>
  entries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? 'delete';

/** Only 'compact' keeps every key's latest state for good. */
const compactOnly = (policy: string) => policy.trim() === 'compact';

export async function checkChangelogPolicy(admin: Admin, topology: string, changelog: string): Promise<void> {
  const policy = policyOf(await topicConfig(admin, changelog));
  if (compactOnly(policy)) return;
  throw new TopicConfigError(
    `${changelog} has cleanup.policy=${policy}: the broker would delete state older than its retention, ` +
      `and a restore would then start from less than was committed. Run \`sluice topics align ${topology}\` ` +
      'to make it compact (other settings of the topic are kept).',
  );
}

/**
 * Sets cleanup.policy=compact. kafkajs only has the non-incremental AlterConfigs, which resets every
 * setting it is not given, so the topic's own settings are read and sent back with the new policy.
 * Returns the policy it replaced, or undefined if there was nothing to do (or no changelog yet).
 */
export async function compactChangelog(admin: Admin, changelog: string): Promise<string | undefined> {
  if ((await partitionCount(admin, changelog)) === undefined) return undefined; // created compact when first run
  const entries = await topicConfig(admin, changelog);
  const previous = policyOf(entries);
  if (compactOnly(previous)) return undefined;
  const own = entries.filter(
    (e) =>
      e.configSource === kafkajs.ConfigSource.TOPIC_CONFIG &&
      e.configName !== 'cleanup.policy' &&
      !e.isSensitive,
  );
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: TOPIC,
        name: changelog,
        configEntries: [
          ...own.map((e) => ({ name: e.configName, value: e.configValue })),
          { name: 'cleanup.policy', value: 'compact' },
        ],
      },
    ],
  });
  return previous;
}
