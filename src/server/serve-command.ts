import { parseArgs } from 'node:util';
import { buildApp } from './app.ts';

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: process.env.CHEXPO_HOST ?? '127.0.0.1' },
      port: { type: 'string', default: process.env.CHEXPO_PORT ?? '8080' },
    },
  });
  const app = buildApp({ logger: true });
  app.log.warn('no model yet: serving health endpoints only until a chexpo-tiny release is committed');
  const close = async (): Promise<void> => {
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  await app.listen({ host: values.host, port: Number(values.port) });
}
