/** JSON schemas of the control API: fastify validates with them and the OpenAPI document shows them. */
import { MODEL_STAGES } from '../../connectors/model-registry/model-metadata.js';

const NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } as const;
const nullableNumber = { type: ['number', 'null'] } as const;

export const nameParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: NAME },
} as const;

const partitionLag = {
  type: 'object',
  required: ['topic', 'partition', 'committed', 'end', 'lag'],
  properties: {
    topic: { type: 'string' },
    partition: { type: 'integer' },
    committed: { type: ['string', 'null'] },
    end: { type: 'string' },
    lag: { type: 'number' },
  },
} as const;

export const statusResponse = {
  type: 'object',
  required: ['at', 'topologies', 'services'],
  properties: {
    at: { type: 'number', description: 'epoch ms' },
    topologies: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'groupId', 'topics', 'lag', 'recordsPerSecond'],
        properties: {
          name: { type: 'string' },
          groupId: { type: 'string' },
          topics: { type: 'array', items: { type: 'string' } },
          lag: {
            type: ['object', 'null'],
            required: ['total', 'partitions'],
            properties: { total: { type: 'number' }, partitions: { type: 'array', items: partitionLag } },
          },
          lagError: { type: 'string' },
          recordsPerSecond: nullableNumber,
        },
      },
    },
    services: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'url', 'status', 'latencyMs'],
        properties: {
          name: { type: 'string' },
          url: { type: 'string' },
          status: { enum: ['ok', 'down'] },
          latencyMs: nullableNumber,
          error: { type: 'string' },
        },
      },
    },
  },
} as const;

export const driftQuery = {
  type: 'object',
  required: ['model'],
  additionalProperties: false,
  properties: {
    model: NAME,
    from: { type: 'string', format: 'date-time', description: 'Default: 24 hours before `to`' },
    to: { type: 'string', format: 'date-time', description: 'Default: now' },
    version: { ...NAME, description: 'Default: the versions active in the latest window of the range' },
  },
} as const;

export const driftResponse = {
  type: 'object',
  required: ['model', 'from', 'to', 'series'],
  properties: {
    model: { type: 'string' },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    series: {
      type: 'array',
      items: {
        type: 'object',
        required: ['feature', 'metric', 'threshold', 'points'],
        properties: {
          feature: { type: 'string' },
          metric: { type: 'string' },
          threshold: { type: 'number' },
          points: {
            type: 'array',
            items: {
              type: 'object',
              required: ['windowStart', 'value', 'sampleSize', 'breached'],
              properties: {
                windowStart: { type: 'number', description: 'epoch ms' },
                value: { type: 'number' },
                sampleSize: { type: 'integer' },
                breached: { type: 'boolean' },
              },
            },
          },
        },
      },
    },
  },
} as const;

const interval = {
  type: ['object', 'null'],
  required: ['low', 'high'],
  properties: { low: { type: 'number' }, high: { type: 'number' } },
} as const;

export const experimentReportResponse = {
  type: 'object',
  required: ['experiment', 'k', 'confidence', 'generatedAt', 'variants'],
  properties: {
    experiment: { type: 'string' },
    k: { type: 'integer' },
    confidence: { type: 'number' },
    generatedAt: { type: 'number', description: 'epoch ms' },
    variants: {
      type: 'array',
      items: {
        type: 'object',
        required: ['variant', 'n', 'auc', 'logLoss', 'precisionAtK', 'aucCi'],
        properties: {
          variant: { type: 'string' },
          n: { type: 'integer' },
          auc: nullableNumber,
          logLoss: nullableNumber,
          precisionAtK: nullableNumber,
          aucCi: interval,
        },
      },
    },
  },
} as const;

const reason = { type: 'string', minLength: 3, maxLength: 500, description: 'Why; kept in the audit log' };

export const promoteBody = {
  type: 'object',
  required: ['version', 'reason'],
  additionalProperties: false,
  properties: {
    version: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' },
    stage: { enum: [...MODEL_STAGES], default: 'champion' },
    reason,
  },
} as const;

export const rollbackBody = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: { reason },
} as const;

export const stageChangeResponse = {
  type: 'object',
  required: ['name', 'version', 'stage', 'auditSeq'],
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    stage: { type: 'string' },
    auditSeq: { type: 'integer', description: 'Sequence number of the audit log record' },
  },
} as const;

export const experimentVersionQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { version: { type: 'integer', minimum: 1 } },
} as const;

const modelRef = {
  type: 'object',
  required: ['name', 'model'],
  properties: {
    name: NAME,
    model: NAME,
    stage: { enum: [...MODEL_STAGES] },
    modelVersion: NAME,
    weight: { type: 'number', minimum: 0, maximum: 1 },
  },
} as const;

/** Shape only; the experiment store validates the meaning (weights sum to 1, unique names, ...). */
export const experimentConfigBody = {
  type: 'object',
  required: ['salt', 'variants', 'shadows', 'reason'],
  additionalProperties: false,
  properties: {
    salt: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 2000 },
    variants: { type: 'array', minItems: 1, items: { ...modelRef, required: ['name', 'model', 'weight'] } },
    shadows: { type: 'array', items: modelRef },
    reason,
  },
} as const;

/** At most this many entities per lookup: one Redis round trip stays small and bounded. */
export const MAX_LOOKUP_ENTITIES = 500;

export const featureViewParams = {
  type: 'object',
  required: ['view'],
  additionalProperties: false,
  properties: { view: NAME },
} as const;

export const featureLookupBody = {
  type: 'object',
  required: ['entities'],
  additionalProperties: false,
  properties: {
    entities: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_LOOKUP_ENTITIES,
      items: { type: 'string', minLength: 1, maxLength: 256 },
    },
  },
} as const;

export const featureLookupResponse = {
  type: 'object',
  required: ['view', 'rows'],
  properties: {
    view: { type: 'string' },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['entity', 'found', 'values', 'version', 'ageMs'],
        properties: {
          entity: { type: 'string' },
          found: { type: 'boolean' },
          values: { type: ['object', 'null'], additionalProperties: { type: 'number' } },
          version: nullableNumber,
          ageMs: nullableNumber,
        },
      },
    },
  },
} as const;

export const alertsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 } },
} as const;

export const alertsResponse = {
  type: 'object',
  required: ['alerts'],
  properties: {
    alerts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['alertId', 'kind', 'severity', 'title', 'message', 'ts'],
        properties: {
          alertId: { type: 'string' },
          dedupKey: { type: 'string' },
          kind: { type: 'string' },
          severity: { type: 'string' },
          title: { type: 'string' },
          message: { type: 'string' },
          model: { type: ['string', 'null'] },
          modelVersion: { type: ['string', 'null'] },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          ts: { type: 'number' },
        },
      },
    },
  },
} as const;
