/** Every op helper in one namespace: `import { op } from './index.ts'; op.matmul(a, b)`. */
export * from './ops-math.ts';
export * from './ops-shape.ts';
