/**
 * Reprocessing a topology from an earlier point, as Kafka Streams' application reset tool does: its
 * consumer group's offsets on the source move to the chosen point, and its state (the changelog, which
 * also holds each partition's position) is deleted, so the next workers start there with empty windows.
 * Without both, a worker resumes where its state says (the changelog's position wins over the group's
 * offset) or counts the replayed records into windows that already hold them.
 *
 * Output, dead-letter and late topics keep what they hold: reprocessing appends to them again, and sinks
 * downstream of a topology are idempotent for exactly this (Redis versions, ReplacingMergeTree).
 */
import type { Admin } from 'kafkajs';
import { changelogTopic } from '../../connectors/kafka/co-partitioned.js';

export type ResetTarget =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  /** The first record with a Kafka timestamp at or after `at` (epoch ms); the end where there is none. */
  | { readonly kind: 'datetime'; readonly at: number };

export interface ResetRequest {
  readonly topology: string;
  readonly sourceTopic: string;
  /** The topology's consumer group (its name unless the topology set another). */
  readonly groupId?: string;
  readonly to: ResetTarget;
}

export interface PartitionReset {
  readonly partition: number;
  /** The group's committed offset, or null when it has none. */
  readonly from: string | null;
  readonly to: string;
}

export interface ResetPlan {
  readonly topology: string;
  readonly groupId: string;
  readonly sourceTopic: string;
  readonly to: ResetTarget;
  readonly partitions: readonly PartitionReset[];
  /** The state to delete, or null when the topology has none yet. */
  readonly changelog: string | null;
}

/** How long the changelog's deletion may take, for the request and then until no broker lists it. */
const DELETION_TIMEOUT_MS = 30_000;

/** A reset that must not happen now; the message says why and what to do. */
export class ResetRefused extends Error {
  override name = 'ResetRefused';
}

/** Running workers would overwrite the reset with their next checkpoint, and hold the state it deletes. */
async function refuseWhileRunning(admin: Admin, topology: string, groupId: string): Promise<void> {
  const { groups } = await admin.describeGroups([groupId]);
  const members = groups[0]?.members ?? [];
  if (members.length === 0) return;
  const who = members.map((m) => `${m.clientId} on ${m.clientHost}`).join(', ');
  throw new ResetRefused(
    `topology ${topology} still has ${members.length} running worker(s) in group ${groupId} (${who}); ` +
      'stop them first (SIGTERM drains and commits), then reset: their next checkpoint would undo it',
  );
}

async function targetOffsets(admin: Admin, topic: string, to: ResetTarget): Promise<Map<number, string>> {
  if (to.kind === 'datetime') {
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, to.at);
    return new Map(offsets.map((o) => [o.partition, o.offset]));
  }
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, to.kind === 'earliest' ? o.low : o.high]));
}

/** What a reset would do, read from Kafka; changes nothing. */
export async function planReset(admin: Admin, request: ResetRequest): Promise<ResetPlan> {
  const groupId = request.groupId ?? request.topology;
  await refuseWhileRunning(admin, request.topology, groupId);
  const topics = await admin.listTopics();
  if (!topics.includes(request.sourceTopic)) {
    throw new ResetRefused(
      `source topic ${request.sourceTopic} of topology ${request.topology} does not exist; name it with --source`,
    );
  }
  const targets = await targetOffsets(admin, request.sourceTopic, request.to);
  const committed = await admin.fetchOffsets({ groupId, topics: [request.sourceTopic] });
  const current = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset === '-1' ? null : p.offset]),
  );
  const changelog = changelogTopic(request.topology);
  return {
    topology: request.topology,
    groupId,
    sourceTopic: request.sourceTopic,
    to: request.to,
    partitions: [...targets]
      .sort(([a], [b]) => a - b)
      .map(([partition, to]) => ({ partition, from: current.get(partition) ?? null, to })),
    changelog: topics.includes(changelog) ? changelog : null,
  };
}

/**
 * Carries out a plan: offsets first, then the state. Should the state's deletion fail, the changelog's
 * position still wins when a worker starts, so the topology resumes as if nothing happened, and running the
 * reset again finishes it.
 */
export async function applyReset(admin: Admin, plan: ResetPlan): Promise<void> {
  await refuseWhileRunning(admin, plan.topology, plan.groupId); // a worker may have started since the plan
  await admin.setOffsets({
    groupId: plan.groupId,
    topic: plan.sourceTopic,
    partitions: plan.partitions.map(({ partition, to }) => ({ partition, offset: to })),
  });
  if (plan.changelog === null) return;
  // A worker that joined since would be restoring the state about to go: stop here, offsets moved, as if
  // the deletion had failed (its position still wins); the reset is run again once it is stopped.
  await refuseWhileRunning(admin, plan.topology, plan.groupId);
  await admin.deleteTopics({ topics: [plan.changelog], timeout: DELETION_TIMEOUT_MS });
  // Deletion completes in the background; a worker started before it has would find the old topic.
  const deadline = Date.now() + DELETION_TIMEOUT_MS;
  while ((await admin.listTopics()).includes(plan.changelog)) {
    if (Date.now() > deadline) {
      throw new ResetRefused(
        `the offsets are reset, but ${plan.changelog} is still being deleted; run the reset again before starting workers`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
