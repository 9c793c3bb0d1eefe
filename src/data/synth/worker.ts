import { type ChunkResult, type ChunkTask, generateChunk } from './chunk.ts';

export default function run(task: ChunkTask): Promise<ChunkResult> {
  return generateChunk(task);
}
