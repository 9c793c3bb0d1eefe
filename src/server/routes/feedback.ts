/** POST /v1/feedback: a clinician's verdict on a past answer, stored as that hard example's label. */
import type { FastifyInstance } from 'fastify';
import { apiError } from '../errors.ts';
import type { FeedbackRequest, FeedbackService } from '../services.ts';

export function feedbackRoute(app: FastifyInstance, deps: { feedbackService?: FeedbackService }): void {
  app.post<{ Body: FeedbackRequest }>(
    '/v1/feedback',
    {
      config: { scope: 'feedback' },
      schema: {
        tags: ['answers'],
        summary: 'Confirm or correct a past answer by its request_id.',
        security: [{ bearer: [] }],
        body: { $ref: 'FeedbackRequest#' },
        response: {
          200: { $ref: 'FeedbackResponse#' },
          '4xx': { $ref: 'ErrorResponse#' },
          '5xx': { $ref: 'ErrorResponse#' },
        },
      },
    },
    async (request) => {
      const feedback = request.body;
      if (feedback.verdict === 'incorrect' && !feedback.correct_answer?.trim()) {
        throw apiError('INVALID_REQUEST', '/correct_answer is required when verdict is "incorrect"', {
          details: [{ field: '/correct_answer', message: 'is required when verdict is "incorrect"' }],
        });
      }
      if (!deps.feedbackService) throw apiError('FEEDBACK_UNAVAILABLE');
      return deps.feedbackService.record(feedback, { keyId: request.principal?.keyId ?? 'anonymous' });
    },
  );
}
