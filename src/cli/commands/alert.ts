import type { Command } from 'commander';
import { ExitCode, usageError } from '../../errors/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';

export function registerAlertCommands(program: Command, context: CliContext): void {
  const alert = program.command('alert').description('alerts to Slack, PagerDuty and signed webhooks');
  alert
    .command('test')
    .description('send a test alert to every channel of .loki/config/alerting.yaml and report each')
    .option('--json', 'print [{"channel", "kind", "isDelivered", "detail"}]')
    .addHelpText(
      'after',
      [
        '',
        'The test alert has severity info and is sent whatever the channel’s minSeverity and events say.',
        'PagerDuty gets a trigger and then its resolve, so no incident stays open.',
        'Exit code 0 when every channel took it, 1 otherwise; 2 when alerting.yaml is invalid or has no channels.',
      ].join('\n'),
    )
    .action(async (options: { json?: boolean }) => {
      const { sendTestAlerts } = await import('../../alerting/index.ts');
      const results = await sendTestAlerts(context);
      if (results.length === 0) {
        throw usageError(
          'ALERTING_NO_CHANNELS',
          'no alert channels configured: add channels to .loki/config/alerting.yaml (see the README, "Alerting")',
        );
      }
      if (options.json === true) writeJson(context, results);
      else {
        for (const result of results) {
          const mark = result.isDelivered ? '✓' : '✗';
          context.stdout(
            sanitizeForTerminal(`${mark} ${result.channel} (${result.kind}): ${result.detail}\n`),
          );
        }
      }
      if (results.some((result) => !result.isDelivered)) context.exitCode = ExitCode.error;
    });
}
