/**
 * The `sluice` command line. Each command group lives in its own file under ./commands and exports
 * `register<Group>Commands(program)`; add a group by adding one import and one call below.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../../connectors/config/endpoints.js';
import { StackError } from '../stack/service.js';
import { TopicConfigError } from '../../connectors/kafka/topics.js';
import { ExperimentNotFoundError } from '../../connectors/experiments/file-experiment-store.js';
import { InvalidExperimentError } from '../../connectors/experiments/experiment-config.js';
import { ModelRegistryError } from '../../connectors/model-registry/registry-errors.js';
import { TopologyError } from '../../topologies/builder.js';
import { UnknownTopologyError } from '../../topologies/catalog.js';
import { WebhookConfigError } from '../../services/alerts/webhook-config.js';
import { ResetRefused } from '../../topologies/runtime/reset.js';
import { registerAlertsCommands } from './commands/alerts.js';
import { registerDeployCommands } from './commands/deploy.js';
import { registerDlqCommands } from './commands/dlq.js';
import { registerExperimentsCommands } from './commands/experiments.js';
import { registerFeaturesCommands } from './commands/features.js';
import { registerModelsCommands } from './commands/models.js';
import { registerResetCommands } from './commands/reset.js';
import { registerRunCommands } from './commands/run.js';
import { registerStackCommands } from './commands/stack.js';
import { registerStatusCommands } from './commands/status.js';
import { registerTopicsCommands } from './commands/topics.js';
import { registerTrainerCommands } from './commands/trainer.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
}

export function buildProgram(): Command {
  const program = new Command()
    .name('sluice')
    .description('Typed RxJS topologies over Kafka for real-time machine learning')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });
  registerStackCommands(program);
  registerFeaturesCommands(program);
  registerTopicsCommands(program);
  registerRunCommands(program);
  registerResetCommands(program);
  registerStatusCommands(program);
  registerDeployCommands(program);
  registerDlqCommands(program);
  registerModelsCommands(program);
  registerExperimentsCommands(program);
  registerAlertsCommands(program);
  registerTrainerCommands(program);
  return program;
}

/** Errors a user can fix print as one line (exit 2); anything else is a bug and keeps its stack trace. */
/** Errors whose message names the fix: printed as one line, without a stack trace. */
const USER_ERRORS = [
  ConfigError,
  StackError,
  UnknownTopologyError,
  TopicConfigError,
  TopologyError,
  ExperimentNotFoundError,
  InvalidExperimentError,
  ModelRegistryError,
  WebhookConfigError,
  ResetRefused,
];

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed the message (or the help/version text).
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof Error && USER_ERRORS.some((type) => err instanceof type)) {
      console.error(`sluice: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    const errno = err as NodeJS.ErrnoException;
    if (errno instanceof Error && errno.code && errno.path) {
      // e.g. EACCES on the state dir: the path in the message is the fix.
      console.error(`sluice: ${errno.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
