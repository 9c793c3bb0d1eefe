/**
 * `chexpo serve`: the server of src/server/start.ts, with --host and --port over CHEXPO_HOST and
 * CHEXPO_PORT.
 */
import { startServer } from '../server/start.ts';
import { parseCommandArgs } from './args.ts';

const HELP = `usage: chexpo serve [--host <address>] [--port <number>]

Configuration comes from CHEXPO_* environment variables (see docs/configuration.md);
--host and --port override CHEXPO_HOST and CHEXPO_PORT. Without CHEXPO_MODEL_DIR the registry is
./var/models, seeded from the bundled release (models/) on first start, so the trainer publishes
there and never into the checkout.`;

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(HELP, {
    args: argv,
    options: { host: { type: 'string' }, port: { type: 'string' } },
  });
  const env = { ...process.env };
  if (values.host !== undefined) env.CHEXPO_HOST = values.host;
  if (values.port !== undefined) env.CHEXPO_PORT = values.port;
  await startServer(env);
}
