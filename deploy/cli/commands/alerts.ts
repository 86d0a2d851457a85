/** `sluice alerts run | verify`: signed alert webhooks for on-call, and a check a receiver can run by hand. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runAlertDispatcher } from '../../../services/alerts/main.js';
import { verifyWebhook } from '../../../services/alerts/webhook-signature.js';
import { loadWebhookConfig } from '../../../services/alerts/webhook-config.js';

export function registerAlertsCommands(program: Command): void {
  const alerts = program
    .command('alerts')
    .description('deliver alerts (guard rails, model refusals) to webhooks, HMAC-SHA256 signed');
  alerts
    .command('run')
    .description('dispatch the sluice.alerts topic to SLUICE_WEBHOOK_URLS until SIGTERM')
    .addHelpText(
      'after',
      '\nEnvironment: SLUICE_WEBHOOK_URLS (comma-separated), SLUICE_WEBHOOK_SECRET_FILE (or SLUICE_WEBHOOK_SECRET),\n' +
        'SLUICE_WEBHOOK_MIN_SEVERITY (INFO|WARNING|CRITICAL, default WARNING), KAFKA_BROKERS.\n' +
        'Each POST carries `sluice-signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">` and\n' +
        '`sluice-alert-id` (deliveries are at-least-once: deduplicate on it).',
    )
    .action(async () => {
      await runAlertDispatcher();
      await new Promise(() => undefined); // runs until a signal ends the process
    });
  alerts
    .command('verify')
    .description("check a received delivery's signature with the configured secret(s)")
    .requiredOption('--body <file>', 'the raw request body as received')
    .requiredOption('--signature <header>', 'the sluice-signature header value')
    .option('--tolerance <seconds>', 'maximum age of the delivery', '300')
    .action((opts: { body: string; signature: string; tolerance: string }) => {
      const { secrets } = loadWebhookConfig({
        SLUICE_WEBHOOK_URLS: 'https://unused.invalid',
        ...process.env,
      });
      const result = verifyWebhook(secrets, opts.signature, readFileSync(opts.body, 'utf8'), {
        toleranceSeconds: Number(opts.tolerance),
      });
      if (result.ok) console.log(`valid: signed at ${new Date(result.timestamp * 1000).toISOString()}`);
      else {
        console.error(`invalid: ${result.reason}`);
        process.exitCode = 1;
      }
    });
}
