/** A/B results for the control page, from the same ClickHouse SQL as `sluice experiments report`. */
import type { ClickHouseClient } from '../../connectors/clickhouse/clickhouse-client.js';
import { experimentReport } from '../experiments-report/experiment-report.js';
import type { ExperimentReportSource } from './sources.js';

export function clickHouseExperimentSource(
  client: Pick<ClickHouseClient, 'query'>,
  options: { k?: number; resamples?: number } = {},
): ExperimentReportSource {
  const k = options.k ?? 100;
  return {
    async report(name) {
      const report = await experimentReport(client, name, { k, resamples: options.resamples ?? 200 });
      if (report.variants.length === 0) return undefined;
      return {
        experiment: report.experiment,
        k,
        confidence: 0.95,
        generatedAt: Date.now(),
        variants: report.variants.map((v) => ({
          variant: v.shadow ? `${v.variant} (shadow)` : v.variant,
          n: v.n,
          auc: Number.isFinite(v.auc) ? v.auc : null,
          logLoss: Number.isFinite(v.logLoss) ? v.logLoss : null,
          precisionAtK: Number.isFinite(v.precisionAtK) ? v.precisionAtK : null,
          aucCi: Number.isFinite(v.aucCi95[0]) ? { low: v.aucCi95[0], high: v.aucCi95[1] } : null,
        })),
      };
    },
  };
}
