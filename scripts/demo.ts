/**
 * `npm run demo [-- --data DIR --cases N --keep]`: continual refinement end to end on this machine.
 *   1. serve the bundled release (registry and store in a temp directory);
 *   2. replay shifted hospital traffic (more and subtler effusions, more AP films), labels withheld
 *      from the server; unsure answers are logged as hard examples;
 *   3. a trainer child process runs one CheXPO round (`chexpo loop run`) while traffic keeps flowing;
 *   4. if the gate promotes the candidate the server hot-swaps to it under that traffic;
 *   5. the held-out half of the traffic is replayed: accuracy and risk before vs after.
 * Without --data the site's phantom pool is synthesised first (4000 cases with the traffic's
 * statistics, about a minute); the round mines 4000 of its samples and gates on 3000 test samples.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunRecordDoc } from '../src/loop/record.ts';
import { LanceStore } from '../src/store/index.ts';
import { fmt, padRow } from './bench/stats.ts';
import {
  type Answered,
  backgroundTraffic,
  loopInChild,
  replay,
  seedRegistry,
  shiftedTraffic,
  sitePool,
  startStack,
  summarize,
  type TrafficItem,
  waitForVersion,
} from './demo/harness.ts';
import { compareTraffic, type Estimate } from './demo/traffic-stats.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    cases: { type: 'string', default: '120' },
    keep: { type: 'boolean', default: false },
  },
});
const root = await mkdtemp(join(tmpdir(), 'chexpo-demo-'));
const registryRoot = join(root, 'registry');
const storeUri = join(root, 'store');
const say = (line: string) => console.log(`[demo] ${line}`);
const line = (cells: (string | number)[]) => padRow(cells, [34, 5, 24, 24, 8], { sep: ' ', left: 1 });
const ci = (e: Estimate, signed = false) => {
  const f = (x: number) => `${signed && x >= 0 ? '+' : ''}${fmt(x, 3)}`;
  return `${f(e.value)} [${f(e.lo)}, ${f(e.hi)}]`;
};
const scored = (items: readonly TrafficItem[], answers: readonly Answered[]) =>
  answers.map((a, i) => ({ ...a, caseId: items[i].case.id }));

try {
  const base = await seedRegistry(registryRoot);
  const dataDir = values.data ? resolve(values.data) : await sitePool(join(root, 'pool'), say);
  say('rendering shifted hospital traffic…');
  const traffic = await shiftedTraffic(join(root, 'traffic'), Number(values.cases), 4242);
  const cases = [...new Set(traffic.map((t) => t.case.id))];
  const seenCases = new Set(cases.slice(0, Math.ceil(cases.length / 2)));
  const seen = traffic.filter((t) => seenCases.has(t.case.id));
  const heldOut = traffic.filter((t) => !seenCases.has(t.case.id));
  say(
    `${traffic.length} questions on ${cases.length} patients: ${seen.length} served first, ${heldOut.length} held out`,
  );

  const stack = await startStack(registryRoot, storeUri, 0.5);
  try {
    const before = summarize(await replay(stack.url, traffic, 4));
    const heldOutBefore = await replay(stack.url, heldOut, 4);
    await stack.logger.flush();
    say(`served ${before.n} answers, ${before.flagged} flagged and logged as hard examples`);

    const configPath = join(root, 'loop.json');
    await writeFile(
      configPath,
      JSON.stringify({ threads: 1, mining: { limit: 4000 }, eval: { limit: 3000 } }),
    );
    const load = backgroundTraffic(stack.url, seen, 2);
    say('trainer: chexpo loop run (child process, 1 thread) while traffic keeps flowing…');
    const code = await loopInChild({
      registryRoot,
      storeUri,
      dataDir,
      workDir: join(root, 'runs'),
      runId: 'demo-1',
      configPath,
      onLine: (line) => console.log(`  [loop] ${line}`),
    });
    const store = await LanceStore.open({
      uri: storeUri,
      embeddingDim: 128,
      readConsistencyIntervalSeconds: 0,
    });
    const record = JSON.parse((await store.getRun('demo-1'))?.record ?? '{}') as RunRecordDoc;
    await store.close();
    if (code === 0 && record.status === 'promoted' && record.candidate_version) {
      await waitForVersion(stack.engine, record.candidate_version, 120_000);
      await new Promise((r) => setTimeout(r, 3000));
    }
    const during = await load.stop();
    say(
      `traffic during the round and the swap: ${during.sent} requests, status codes ${JSON.stringify(during.statuses)}, versions ${during.versions.join(', ')}`,
    );
    say(
      `round ${record.status ?? 'failed'}; gate: ${(record.gate?.reasons ?? [record.error?.message]).join(' | ')}`,
    );

    const heldOutAfter = await replay(stack.url, heldOut, 4);
    const c = compareTraffic(scored(heldOut, heldOutBefore), scored(heldOut, heldOutAfter));
    const [sb, sa] = [summarize(heldOutBefore), summarize(heldOutAfter)];
    console.log(
      `\nheld-out traffic: ${c.n} questions on ${c.patients} patients; 95% intervals resample patients, the difference is paired`,
    );
    console.log(line(['version', 'n', 'accuracy', 'mean risk', 'flagged']));
    const rows: [string, number | string, Estimate, Estimate, number, boolean][] = [
      [
        `before (${record.base_version ?? base})`,
        sb.n,
        c.accuracy.before,
        c.meanRisk.before,
        sb.flagged,
        false,
      ],
      [
        `after (${stack.engine.status().model?.version})`,
        sa.n,
        c.accuracy.after,
        c.meanRisk.after,
        sa.flagged,
        false,
      ],
      ['after − before', '', c.accuracy.diff, c.meanRisk.diff, sa.flagged - sb.flagged, true],
    ];
    for (const [name, n, accuracy, risk, flagged, signed] of rows)
      console.log(line([name, n, ci(accuracy, signed), ci(risk, signed), flagged]));
    await new Promise((r) => setTimeout(r, 2500)); // one RunObserver poll after the round
    const metrics = (await stack.metricsText())
      .split('\n')
      .filter((l) =>
        /^chexpo_(answer_(flagged|completed)_total|answer_risk_ratio_(sum|count)|model_version_info|engine_swap_duration_seconds_(sum|count)|loop_(runs|pairs)_total|loop_dpo_final|loop_eval_score|loop_hard_examples_pending)/.test(
          l,
        ),
      );
    console.log(`\n/metrics excerpt:\n${metrics.slice(0, 40).join('\n')}`);
  } finally {
    await stack.close();
  }
} finally {
  if (values.keep) say(`kept ${root}`);
  else await rm(root, { recursive: true, force: true });
}
