/**
 * A training checkpoint: parameters, AdamW moments and the loop position in one safetensors file, plus
 * the run's options in its metadata, so a resumed run continues with exactly the next batch.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../safetensors.ts';
import type { AdamWState } from './adamw.ts';

export interface LoopPosition {
  /** Optimiser steps taken. */
  step: number;
  epoch: number;
  /** Index of the next batch within the epoch. */
  batch: number;
}

export interface Checkpoint {
  params: Record<string, Float32Array>;
  optimizer: AdamWState;
  position: LoopPosition;
  /** Free-form run description (config, data seed, options): stored as JSON. */
  meta: Record<string, unknown>;
}

const f32 = (data: Float32Array): NamedTensor => ({ dtype: 'F32', shape: [data.length], data });

export async function saveCheckpoint(path: string, c: Checkpoint): Promise<void> {
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, p] of Object.entries(c.params)) {
    tensors[`param/${name}`] = f32(p);
    tensors[`m/${name}`] = f32(c.optimizer.m[name]);
    tensors[`v/${name}`] = f32(c.optimizer.v[name]);
  }
  const bytes = encodeSafetensors(tensors, {
    position: JSON.stringify(c.position),
    optimizer_step: String(c.optimizer.step),
    meta: JSON.stringify(c.meta),
  });
  // Write then rename: a crash mid-write never leaves a truncated checkpoint behind.
  await writeFile(`${path}.tmp`, bytes);
  await rename(`${path}.tmp`, path);
}

export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(path)));
  const params: Record<string, Float32Array> = {};
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [key, t] of Object.entries(tensors)) {
    const [kind, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const target = kind === 'param' ? params : kind === 'm' ? m : v;
    target[name] = t.data as Float32Array;
  }
  return {
    params,
    optimizer: { step: Number(metadata.optimizer_step), m, v },
    position: JSON.parse(metadata.position),
    meta: JSON.parse(metadata.meta),
  };
}
