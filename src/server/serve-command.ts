/**
 * `chexpo serve`: loads the configuration from the environment (flags override host and port),
 * builds the app and listens. Until the engine lands no model is attached: health answers, ready is
 * 503 MODEL_NOT_READY, /v1/answer is MODEL_NOT_READY.
 */
import { parseArgs } from 'node:util';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';

const HELP = `usage: chexpo serve [--host <address>] [--port <number>]

Configuration comes from CHEXPO_* environment variables (see docs/configuration.md);
--host and --port override CHEXPO_HOST and CHEXPO_PORT.`;

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const env = { ...process.env };
  if (values.host !== undefined) env.CHEXPO_HOST = values.host;
  if (values.port !== undefined) env.CHEXPO_PORT = values.port;
  const { config, warnings } = loadConfig(env);

  const app = await buildApp({ config, logger: { level: config.logLevel } });
  for (const warning of warnings) app.log.warn(`*** ${warning} ***`);
  app.log.warn('no model attached yet: /v2/health/ready and /v1/answer answer 503 MODEL_NOT_READY');

  let closing = false;
  const close = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));
  await app.listen({ host: config.host, port: config.port });
}
