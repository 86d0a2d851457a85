/** Benchmark results and their rendering into BENCHMARKS.md: every figure stands beside its baseline. */
import os from 'node:os';

export interface Figure {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** The ceiling or peer measured in the same run; the ratio is value / baseline. */
  readonly baseline?: { readonly name: string; readonly value: number };
  /** A target from the issue, e.g. ">= 0.7" on the ratio. */
  readonly target?: string;
  readonly note?: string;
}

export interface Section {
  readonly title: string;
  readonly setup: string;
  readonly figures: readonly Figure[];
  /** What the figures mean, including why a target is missed. */
  readonly analysis?: string;
}

const fmt = (n: number) =>
  Math.abs(n) >= 100
    ? Math.round(n).toLocaleString('en-US')
    : n.toLocaleString('en-US', { maximumFractionDigits: 3 });

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function renderMarkdown(command: string, sections: readonly Section[], startedAt: Date): string {
  const lines = [
    '# Benchmarks',
    '',
    `Command: \`${command}\``,
    '',
    `Machine: ${machineDescription()}`,
    '',
    `Run: ${startedAt.toISOString()}. Every figure is shown beside its baseline from the same run; the ratio is the result.`,
    '',
  ];
  for (const s of sections) {
    lines.push(
      `## ${s.title}`,
      '',
      s.setup,
      '',
      '| metric | value | baseline (same run) | ratio | target | note |',
      '|---|---|---|---|---|---|',
    );
    for (const f of s.figures) {
      const base = f.baseline ? `${fmt(f.baseline.value)} ${f.unit} (${f.baseline.name})` : '—';
      const ratio = f.baseline && f.baseline.value !== 0 ? fmt(f.value / f.baseline.value) : '—';
      lines.push(
        `| ${f.metric} | ${fmt(f.value)} ${f.unit} | ${base} | ${ratio} | ${f.target ?? '—'} | ${f.note ?? ''} |`,
      );
    }
    lines.push('');
    if (s.analysis) lines.push(s.analysis, '');
  }
  return lines.join('\n');
}
