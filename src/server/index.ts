/**
 * The HTTP server: the app as `chexpo serve` builds it, its configuration, metrics, the answer and
 * feedback services and the hard-example logger, for embedding it over an engine (scripts, the demo).
 */

export { EngineAnswerService, StoreFeedbackService } from './answer-service.ts';
export { type AppOptions, buildApp } from './app.ts';
export { type LoadedConfig, loadConfig, type ServerConfig } from './config.ts';
export { HardExampleLogger, type HardExampleLoggerOptions } from './hard-example-logger.ts';
export { createMetrics, engineObserver, type Metrics } from './metrics.ts';
export type { AnswerService, FeedbackService } from './services.ts';
export { startServer } from './start.ts';
