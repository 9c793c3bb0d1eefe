/** Every family of coded errors in src/ (the docs test checks that none is missing from this list). */

import { ImageError } from '../../src/data/image/errors.ts';
import { ImportError } from '../../src/data/import/errors.ts';
import { PhantomError } from '../../src/data/phantom/errors.ts';
import { TokenizerError } from '../../src/data/tokenizer/errors.ts';
import { EngineError } from '../../src/engine/errors.ts';
import type { ErrorFamily } from '../../src/errors/define.ts';
import { EvaluationError } from '../../src/eval/errors.ts';
import { EvaluationRunError } from '../../src/inference/errors.ts';
import { OodError } from '../../src/inference/ood/v1.ts';
import { LoopConfigError } from '../../src/loop/config.ts';
import { DpoError } from '../../src/loop/dpo/errors.ts';
import { LoopError } from '../../src/loop/errors.ts';
import { MiningError } from '../../src/loop/mining/errors.ts';
import { PairsError } from '../../src/loop/pairs/errors.ts';
import { AutodiffError } from '../../src/model/autodiff/errors.ts';
import { GraphError } from '../../src/model/graph/errors.ts';
import { OrtError } from '../../src/model/ort/session.ts';
import { SafetensorsError } from '../../src/model/safetensors.ts';
import { VlmError } from '../../src/model/vlm/errors.ts';
import { RegistryError } from '../../src/registry/errors.ts';
import { LeaseHeldError } from '../../src/registry/lease.ts';
import { ConfigError } from '../../src/server/config.ts';
import { ApiError } from '../../src/server/errors.ts';
import { TrainerRunFailure } from '../../src/server/trainer/errors.ts';
import { StoreError } from '../../src/store/errors.ts';

/** In the order docs/errors.md lists their internal codes: from the HTTP edge down to the model. */
export const ERROR_FAMILIES: readonly ErrorFamily[] = [
  ApiError,
  ConfigError,
  TrainerRunFailure,
  EngineError,
  ImageError,
  LoopError,
  LoopConfigError,
  LeaseHeldError,
  MiningError,
  PairsError,
  DpoError,
  RegistryError,
  StoreError,
  EvaluationRunError,
  OodError,
  EvaluationError,
  VlmError,
  OrtError,
  GraphError,
  AutodiffError,
  SafetensorsError,
  TokenizerError,
  ImportError,
  PhantomError,
];
