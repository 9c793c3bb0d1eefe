/** `chexpo loop export`: the preference pairs in the store (one round or all) as a TRL dataset. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { exportTrl, fromPreferencePair, ImageResolver } from '../loop/pairs/index.ts';
import { LanceStore } from '../store/index.ts';
import { parseCommandArgs } from './args.ts';

const HELP = `usage: chexpo loop export --store URI --data DIR --out DIR [--round N] [--json]

Writes the preference pairs of the store (one round, or all) as a TRL conversational DPO dataset in
DIR (reads the store, never creates one: a missing store is an error).
  --embedding-dim N   the store's vector width (default 128)
  --image-size PX     model input side the images are rendered at (default 64)
  --json              print the result as one JSON object`;

export async function loopExport(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(
    HELP,
    {
      args: argv,
      options: {
        store: { type: 'string' },
        data: { type: 'string' },
        out: { type: 'string' },
        round: { type: 'string' },
        'embedding-dim': { type: 'string', default: '128' },
        'image-size': { type: 'string', default: '64' },
        json: { type: 'boolean', default: false },
      },
    },
    ['store', 'data', 'out'],
  );
  const store = await LanceStore.open({
    uri: values.store!,
    embeddingDim: Number(values['embedding-dim']),
    readOnly: true,
  });
  try {
    const where = values.round === undefined ? undefined : `round = ${Number(values.round)}`;
    const rows = await store.listPairs({ where });
    if (rows.length === 0)
      throw new Error(`no preference pairs in ${values.store}${where ? ` (${where})` : ''}`);
    const manifest = JSON.parse(await readFile(join(values.data!, 'manifest.json'), 'utf8'));
    const resolver = new ImageResolver({
      dataDir: resolve(values.data!),
      imageSize: Number(values['image-size']),
      renderSize: manifest.size,
      store,
    });
    const result = await exportTrl(resolve(values.out!), rows.map(fromPreferencePair), resolver);
    if (values.json) console.log(JSON.stringify({ pairs: rows.length, out: values.out, ...result }));
    else console.log(`exported ${rows.length} pairs to ${values.out}: ${JSON.stringify(result)}`);
  } finally {
    await store.close();
  }
}
