/** `chexpo loop export`: the preference pairs in the store (one round or all) as a TRL dataset. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LanceStore } from '../store/index.ts';
import { exportTrl, fromPreferencePair, ImageResolver } from './pairs/index.ts';

export async function loopExport(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      round: { type: 'string' },
      'embedding-dim': { type: 'string', default: '128' },
      'image-size': { type: 'string', default: '64' },
    },
  });
  if (!values.store || !values.data || !values.out)
    throw new Error('usage: chexpo loop export --store URI --data DIR --out DIR [--round N]');
  const store = await LanceStore.open({ uri: values.store, embeddingDim: Number(values['embedding-dim']) });
  try {
    const where = values.round === undefined ? undefined : `round = ${Number(values.round)}`;
    const rows = await store.listPairs({ where });
    if (rows.length === 0)
      throw new Error(`no preference pairs in ${values.store}${where ? ` (${where})` : ''}`);
    const manifest = JSON.parse(await readFile(join(values.data, 'manifest.json'), 'utf8'));
    const resolver = new ImageResolver({
      dataDir: resolve(values.data),
      imageSize: Number(values['image-size']),
      renderSize: manifest.size,
      store,
    });
    const result = await exportTrl(resolve(values.out), rows.map(fromPreferencePair), resolver);
    console.log(`exported ${rows.length} pairs to ${values.out}: ${JSON.stringify(result)}`);
  } finally {
    await store.close();
  }
}
