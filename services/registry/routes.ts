/**
 * The Confluent Schema Registry REST subset that @confluentinc/schemaregistry (and the Java/Python/Go
 * clients) use. Handlers only translate HTTP to store queries and planned writes.
 */
import type { FastifyInstance } from 'fastify';
import { parseAvroSchema } from './avro-schema.js';
import { parseCompatibilityLevel } from './compatibility.js';
import { schemaNotFound } from './errors.js';
import type { RegistryService } from './registry-service.js';
import { noSubjectLevel, parseVersionRef } from './store.js';

type Query = Record<string, string | undefined>;
interface SchemaBody {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
}
interface ConfigBody {
  compatibility?: unknown;
  compatibilityLevel?: unknown;
}

const flag = (q: Query, name: string): boolean => q[name] === 'true';
const bodyOf = <T>(body: unknown): T => (body !== null && typeof body === 'object' ? body : {}) as T;
const parsedBody = (body: unknown) => {
  const b = bodyOf<SchemaBody>(body);
  return parseAvroSchema(b.schema, b.schemaType, b.references);
};

function parseId(raw: string): number {
  const id = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id)) throw schemaNotFound(`Schema ${raw} not found`);
  return id;
}

export function registerRoutes(app: FastifyInstance, service: RegistryService): void {
  const store = () => service.store;

  app.get('/', async () => ({}));
  app.get('/schemas/types', async () => ['AVRO']);

  // ---- subjects ----
  app.get<{ Querystring: Query }>('/subjects', async (req) =>
    store().listSubjects(flag(req.query, 'deleted')),
  );

  app.get<{ Params: { subject: string }; Querystring: Query }>('/subjects/:subject/versions', async (req) =>
    store().listVersions(req.params.subject, flag(req.query, 'deleted')),
  );

  app.post<{ Params: { subject: string } }>('/subjects/:subject/versions', async (req) => {
    const parsed = parsedBody(req.body);
    const { id } = await service.write((s) => s.planRegister(req.params.subject, parsed));
    return { id };
  });

  app.post<{ Params: { subject: string }; Querystring: Query }>('/subjects/:subject', async (req) => {
    const v = store().lookup(req.params.subject, parsedBody(req.body), flag(req.query, 'deleted'));
    return { subject: v.subject, id: v.id, version: v.version, schema: v.schema };
  });

  app.get<{ Params: { subject: string; version: string }; Querystring: Query }>(
    '/subjects/:subject/versions/:version',
    async (req) => {
      const ref = parseVersionRef(req.params.version);
      const v = store().getVersion(req.params.subject, ref, flag(req.query, 'deleted'));
      return { subject: v.subject, id: v.id, version: v.version, schema: v.schema };
    },
  );

  app.get<{ Params: { subject: string; version: string }; Querystring: Query }>(
    '/subjects/:subject/versions/:version/schema',
    async (req, reply) => {
      const ref = parseVersionRef(req.params.version);
      const v = store().getVersion(req.params.subject, ref, flag(req.query, 'deleted'));
      return reply.serializer((x: unknown) => x as string).send(v.schema);
    },
  );

  app.delete<{ Params: { subject: string }; Querystring: Query }>('/subjects/:subject', async (req) =>
    service.write((s) => s.planDeleteSubject(req.params.subject, flag(req.query, 'permanent'))),
  );

  app.delete<{ Params: { subject: string; version: string }; Querystring: Query }>(
    '/subjects/:subject/versions/:version',
    async (req) => {
      const ref = parseVersionRef(req.params.version);
      return service.write((s) => s.planDeleteVersion(req.params.subject, ref, flag(req.query, 'permanent')));
    },
  );

  // ---- schemas by global id ----
  app.get<{ Params: { id: string } }>('/schemas/ids/:id', async (req) => ({
    schema: store().getSchemaById(parseId(req.params.id)),
  }));

  app.get<{ Params: { id: string } }>('/schemas/ids/:id/schema', async (req, reply) => {
    const schema = store().getSchemaById(parseId(req.params.id));
    return reply.serializer((x: unknown) => x as string).send(schema);
  });

  app.get<{ Params: { id: string }; Querystring: Query }>('/schemas/ids/:id/versions', async (req) => {
    const id = parseId(req.params.id);
    store().getSchemaById(id); // 40403 when unknown
    return store().versionsUsingId(id, flag(req.query, 'deleted'));
  });

  app.get<{ Params: { id: string }; Querystring: Query }>('/schemas/ids/:id/subjects', async (req) => {
    const id = parseId(req.params.id);
    store().getSchemaById(id);
    return [
      ...new Set(
        store()
          .versionsUsingId(id, flag(req.query, 'deleted'))
          .map((v) => v.subject),
      ),
    ];
  });

  // ---- compatibility configuration ----
  app.get('/config', async () => ({ compatibilityLevel: store().globalCompatibility }));

  app.put('/config', async (req) => {
    const body = bodyOf<ConfigBody>(req.body);
    const level = parseCompatibilityLevel(body.compatibility ?? body.compatibilityLevel);
    return { compatibility: await service.write((s) => s.planSetLevel(null, level)) };
  });

  app.get<{ Params: { subject: string }; Querystring: Query }>('/config/:subject', async (req) => {
    const level = store().subjectLevel(req.params.subject);
    if (level !== null) return { compatibilityLevel: level };
    if (flag(req.query, 'defaultToGlobal')) return { compatibilityLevel: store().globalCompatibility };
    throw noSubjectLevel(req.params.subject);
  });

  app.put<{ Params: { subject: string } }>('/config/:subject', async (req) => {
    const body = bodyOf<ConfigBody>(req.body);
    const level = parseCompatibilityLevel(body.compatibility ?? body.compatibilityLevel);
    return { compatibility: await service.write((s) => s.planSetLevel(req.params.subject, level)) };
  });

  app.delete<{ Params: { subject: string } }>('/config/:subject', async (req) => ({
    compatibilityLevel: await service.write((s) => s.planDeleteSubjectLevel(req.params.subject)),
  }));

  // ---- compatibility checks ----
  app.post<{ Params: { subject: string; version: string }; Querystring: Query }>(
    '/compatibility/subjects/:subject/versions/:version',
    async (req) => {
      const ref = parseVersionRef(req.params.version);
      const result = store().testCompatibility(req.params.subject, parsedBody(req.body), ref);
      return flag(req.query, 'verbose')
        ? { is_compatible: result.compatible, messages: result.messages }
        : { is_compatible: result.compatible };
    },
  );

  app.post<{ Params: { subject: string }; Querystring: Query }>(
    '/compatibility/subjects/:subject/versions',
    async (req) => {
      const result = store().testCompatibility(req.params.subject, parsedBody(req.body));
      return flag(req.query, 'verbose')
        ? { is_compatible: result.compatible, messages: result.messages }
        : { is_compatible: result.compatible };
    },
  );
}
