/**
 * Avro values <-> Confluent wire-format bytes, with schemas from a Schema Registry.
 *
 * serialize: registers (or looks up) the descriptor's schema under `${topic}-value` (TopicNameStrategy)
 * once, then frames each value as magic byte + schema id + Avro body.
 * deserialize: reads the writer schema id, fetches that schema once per id, and resolves it to the
 * descriptor's (reader) schema, so data written with an older or newer compatible schema still decodes.
 * After the first record of each writer schema, decoding is a Map lookup plus avsc's decoder: no I/O.
 */
import avro from 'avsc';
import { LRUCache } from 'lru-cache';
import type { SchemaDescriptor } from '../../schemas/index.js';
import { valueSubject } from '../../schemas/index.js';
import type { RegistryClient } from './client.js';
import { SerdeError } from './serde-error.js';
import { encodeHeader, HEADER_SIZE, readSchemaId } from './wire-format.js';

export interface AvroSerdeOptions {
  readonly topic: string;
  /** Subject override; default `${topic}-value`. */
  readonly subject?: string;
  /** Register the schema on first use (default true). false: it must already be registered. */
  readonly autoRegister?: boolean;
  /** How long an id the registry does not know is remembered as unknown (default 10 s). */
  readonly unknownIdTtlMs?: number;
  /** How many unknown ids are remembered at most, the least recently seen forgotten first (default 10,000). */
  readonly maxUnknownIds?: number;
}

export interface AvroSerde<T> {
  readonly subject: string;
  /**
   * The framed bytes once the writer schema id is known (every value but the first), a Promise only while
   * it is registered or looked up; as deserialize, so a sink that serializes every record pays no Promise
   * per record. Errors are thrown (or rejected, on the registering path) as SerdeError.
   */
  serialize(value: T): Buffer | Promise<Buffer>;
  /**
   * The value itself once the writer schema is cached (every record but a schema's first), a Promise only
   * while it is fetched: a Promise per record would cost more than decoding it. Errors are thrown (or
   * rejected, on the fetching path) as SerdeError.
   */
  deserialize(payload: Buffer | null | undefined): T | Promise<T>;
  /** The id the serializer writes (registers/looks it up on first call). */
  writerSchemaId(): Promise<number>;
}

/** How records written with one schema id are read: a resolver, or the reason they cannot be. */
type ReadPlan =
  | { readonly resolver?: avro.Resolver }
  /** `unknown`: the registry has no such id (yet), so the plan is only kept for a while. */
  | { readonly error: SerdeError; readonly unknown?: true };

// Fresh objects per call: avsc keeps registries on the options objects it is given.
const parseOptions = (): Partial<avro.ForSchemaOptions> => ({ wrapUnions: 'auto' });
const resolveOptions = () => ({ ignoreNamespaces: true });

interface RestErrorLike {
  status?: number;
  errorCode?: number;
  isAxiosError?: boolean;
  message: string;
}

/** Transient (network, timeout, 408/429/5xx) vs permanent registry failures. */
function registryFailure(err: unknown, action: string): SerdeError {
  const e = err as RestErrorLike;
  const status = typeof e?.status === 'number' ? e.status : undefined;
  if (status === undefined || status >= 500 || status === 408 || status === 429) {
    return new SerdeError(
      'REGISTRY_UNAVAILABLE',
      `schema registry unavailable while ${action}: ${e?.message}`,
      {
        cause: err,
      },
    );
  }
  return new SerdeError('REGISTRY_ERROR', `schema registry refused ${action}: ${e.message}`, { cause: err });
}

function invalidPaths(type: avro.Type, value: unknown): string[] {
  const paths: string[] = [];
  type.isValid(value, {
    errorHook: (path: string[], v: unknown) =>
      paths.push(`${path.join('.') || '(value)'}=${JSON.stringify(v)}`),
  });
  return paths;
}

export function createAvroSerde<T>(
  descriptor: SchemaDescriptor<T>,
  client: RegistryClient,
  options: AvroSerdeOptions,
): AvroSerde<T> {
  const subject = options.subject ?? valueSubject(options.topic);
  const autoRegister = options.autoRegister ?? true;
  const unknownIdTtlMs = options.unknownIdTtlMs ?? 10_000;
  const readerType = avro.Type.forSchema(descriptor.avsc as avro.Schema, parseOptions());
  const schemaText = JSON.stringify(descriptor.avsc);
  const readerFingerprint = readerType.fingerprint().toString('hex');

  let writerId: Promise<number> | undefined;
  let writerHeader: Buffer | undefined;
  /** Plans for the ids the registry knows: as many as the subject has versions. */
  const plans = new Map<number, ReadPlan>();
  /**
   * Ids the registry does not know. Poison can carry any of 2^32 ids, so this is bounded (least recently
   * seen forgotten first) and entries expire: a schema registered later is then found.
   */
  const unknownIds = new LRUCache<number, ReadPlan>({
    max: options.maxUnknownIds ?? 10_000,
    ttl: unknownIdTtlMs,
  });
  const pendingPlans = new Map<number, Promise<ReadPlan>>();

  async function compatibilityLevel(): Promise<string> {
    try {
      return await client.getCompatibility(subject);
    } catch {
      try {
        return await client.getDefaultCompatibility();
      } catch {
        return 'unknown';
      }
    }
  }

  async function obtainWriterId(): Promise<number> {
    const info = { schemaType: 'AVRO', schema: schemaText };
    try {
      return autoRegister ? await client.register(subject, info) : await client.getId(subject, info);
    } catch (err) {
      const status = (err as RestErrorLike).status;
      if (status === 409) {
        const level = await compatibilityLevel();
        throw new SerdeError(
          'INCOMPATIBLE_SCHEMA',
          `schema ${descriptor.name} was refused for subject "${subject}": it is incompatible with the ` +
            `subject's earlier versions under compatibility level ${level} (${(err as Error).message})`,
          { cause: err },
        );
      }
      if (!autoRegister && status === 404) {
        throw new SerdeError(
          'REGISTRY_ERROR',
          `schema ${descriptor.name} is not registered under subject "${subject}"; register it first or ` +
            `create the serde with autoRegister: true`,
          { cause: err },
        );
      }
      throw registryFailure(err, `registering ${descriptor.name} under subject "${subject}"`);
    }
  }

  function writerSchemaId(): Promise<number> {
    writerId ??= obtainWriterId().catch((err: unknown) => {
      writerId = undefined; // let the next call try again
      throw err;
    });
    return writerId;
  }

  async function fetchPlan(id: number): Promise<ReadPlan> {
    let writerSchema: string;
    let schemaType: string | undefined;
    try {
      const info = await client.getBySubjectAndId(subject, id);
      writerSchema = info.schema;
      schemaType = info.schemaType;
    } catch (err) {
      if ((err as RestErrorLike).status === 404) {
        const error = new SerdeError(
          'UNKNOWN_SCHEMA_ID',
          `schema id ${id} is not known to the schema registry`,
        );
        return { error, unknown: true };
      }
      throw registryFailure(err, `fetching schema id ${id}`);
    }
    if (schemaType !== undefined && schemaType !== 'AVRO') {
      return { error: new SerdeError('INCOMPATIBLE_SCHEMA', `schema id ${id} is ${schemaType}, not AVRO`) };
    }
    let writerType: avro.Type;
    try {
      writerType = avro.Type.forSchema(JSON.parse(writerSchema) as avro.Schema, parseOptions());
    } catch (err) {
      return {
        error: new SerdeError(
          'INCOMPATIBLE_SCHEMA',
          `schema id ${id} is not a usable Avro schema: ${(err as Error).message}`,
        ),
      };
    }
    if (writerType.fingerprint().toString('hex') === readerFingerprint) return {};
    try {
      return { resolver: readerType.createResolver(writerType, resolveOptions()) };
    } catch (err) {
      return {
        error: new SerdeError(
          'INCOMPATIBLE_SCHEMA',
          `data written with schema id ${id} cannot be read as ${descriptor.name}: ${(err as Error).message}`,
        ),
      };
    }
  }

  function planFor(id: number): ReadPlan | Promise<ReadPlan> {
    const known = plans.get(id) ?? unknownIds.get(id);
    if (known) return known;
    let pending = pendingPlans.get(id);
    if (!pending) {
      pending = fetchPlan(id).then(
        (plan) => {
          if ('unknown' in plan) unknownIds.set(id, plan);
          else plans.set(id, plan);
          pendingPlans.delete(id);
          return plan;
        },
        (err: unknown) => {
          pendingPlans.delete(id); // transient: not cached, the next record asks again
          throw err;
        },
      );
      pendingPlans.set(id, pending);
    }
    return pending;
  }

  function decodeWith(plan: ReadPlan, payload: Buffer): T {
    if ('error' in plan) throw plan.error;
    let decoded: { value: unknown; offset: number };
    try {
      decoded = readerType.decode(payload, HEADER_SIZE, plan.resolver);
    } catch (err) {
      throw new SerdeError('AVRO_DECODE_ERROR', `Avro body does not decode: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (decoded.offset === -1) {
      throw new SerdeError(
        'AVRO_DECODE_ERROR',
        `Avro body is truncated (${payload.length - HEADER_SIZE} bytes)`,
      );
    }
    if (decoded.offset !== payload.length) {
      throw new SerdeError(
        'TRAILING_BYTES',
        `${payload.length - decoded.offset} bytes left after the Avro body (${decoded.offset - HEADER_SIZE} bytes)`,
      );
    }
    return decoded.value as T;
  }

  /** Where values are encoded before being copied out at their exact size; grows to the largest value. */
  let scratch = Buffer.allocUnsafe(4096);

  /** Header + Avro body in one buffer of exactly their size: one allocation per value. */
  function frame(header: Buffer, value: T): Buffer {
    let end: number;
    try {
      end = readerType.encode(value, scratch, HEADER_SIZE);
      if (end < 0) {
        // encode() answers how many bytes were missing: grow once, to at least double.
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
        end = readerType.encode(value, scratch, HEADER_SIZE);
      }
    } catch (err) {
      const paths = invalidPaths(readerType, value);
      throw new SerdeError(
        'AVRO_ENCODE_ERROR',
        `value does not match ${descriptor.name}: ${paths.length ? paths.join(', ') : (err as Error).message}`,
        { cause: err },
      );
    }
    const framed = Buffer.allocUnsafe(end);
    header.copy(framed, 0);
    scratch.copy(framed, HEADER_SIZE, HEADER_SIZE, end);
    return framed;
  }

  return {
    subject,
    writerSchemaId,

    serialize(value: T): Buffer | Promise<Buffer> {
      if (writerHeader) return frame(writerHeader, value);
      return writerSchemaId().then((id) => frame((writerHeader ??= encodeHeader(id)), value));
    },

    deserialize(payload: Buffer | null | undefined): T | Promise<T> {
      const id = readSchemaId(payload);
      const plan = planFor(id);
      return plan instanceof Promise ? plan.then((p) => decodeWith(p, payload!)) : decodeWith(plan, payload!);
    },
  };
}
