/**
 * Request validation without type coercion where clients send typed data. Fastify's default
 * (`coerceTypes: 'array'`) turns `{"to": ["v0001"]}` into `"v0001"` and `"2"` into `2`, so a JSON body
 * that fails its schema could still act (a real rollback, an array recorded as feedback text). JSON
 * bodies are therefore checked as sent; only parts that are text by nature (query strings, path
 * parameters, headers and multipart form fields) are coerced to their schema types.
 */
import { AjvCompiler, type Options as AjvOptions } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type ValidatorFactory = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;

/** Unknown fields are reported (UNKNOWN_FIELD), not removed; every error at once. */
export const AJV_CUSTOM_OPTIONS = { removeAdditional: false, allErrors: true } as const;

const pool = AjvCompiler();

export const buildValidator: ValidatorFactory = (externalSchemas, serverOptions) => {
  const { plugins, onCreate, customOptions } = (serverOptions ?? {}) as {
    plugins?: never;
    onCreate?: never;
    customOptions?: AjvOptions;
  };
  const custom: AjvOptions = { ...AJV_CUSTOM_OPTIONS, ...customOptions };
  const build = (coerceTypes: AjvOptions['coerceTypes']) =>
    pool(externalSchemas, { plugins, onCreate, customOptions: { ...custom, coerceTypes } });
  const strict = build(false);
  const textual = build('array');
  return (route) => {
    const { contentType } = route as { contentType?: string };
    const asSent = route.httpPart === 'body' && contentType !== 'multipart/form-data';
    return (asSent ? strict : textual)(route);
  };
};
