/** POST /v1/feedback: a clinician's verdict on a past answer, stored as that hard example's label. */
import type { FastifyInstance } from 'fastify';
import { type AuditLog, auditHook, bodyFields, textLength } from '../audit-log.ts';
import type { Principal } from '../auth.ts';
import { apiError } from '../errors.ts';
import { hashRequestId } from '../hard-example-logger.ts';
import type { FeedbackRequest, FeedbackService } from '../services.ts';

/**
 * Whose answer a feedback labels: the caller's own, or (admin keys only) the key named by
 * `key_id`. Naming another key without the admin scope is FORBIDDEN.
 */
export function feedbackOwner(keyId: unknown, principal: Principal | undefined): string {
  const own = principal?.keyId ?? 'anonymous';
  if (keyId === undefined || keyId === own) return own;
  if (!principal?.scopes.has('admin')) {
    throw apiError('FORBIDDEN', "only a key with the admin scope may label another key's answer (key_id)");
  }
  return String(keyId);
}

/** The audit entry of a feedback: the request_id hashed as the store keeps it, sizes of the free text. */
function describeFeedback(request: Parameters<Parameters<typeof auditHook>[1]>[0]) {
  const body = bodyFields(request);
  let owner: string | null = null;
  try {
    owner = feedbackOwner(body.key_id, request.principal);
  } catch {
    // refused: no target
  }
  return {
    action: 'feedback',
    target:
      owner !== null && typeof body.request_id === 'string' ? hashRequestId(owner, body.request_id) : null,
    details: {
      verdict: body.verdict === 'correct' || body.verdict === 'incorrect' ? body.verdict : null,
      correct_answer_chars: textLength(body.correct_answer),
      comment_chars: textLength(body.comment),
    },
  };
}

export function feedbackRoute(
  app: FastifyInstance,
  deps: { feedbackService?: FeedbackService; audit?: AuditLog },
): void {
  app.post<{ Body: FeedbackRequest }>(
    '/v1/feedback',
    {
      config: { scope: 'feedback' },
      ...(deps.audit ? { onResponse: auditHook(deps.audit, describeFeedback) } : {}),
      schema: {
        operationId: 'createFeedback',
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
      const owner = feedbackOwner(feedback.key_id, request.principal);
      return deps.feedbackService.record(feedback, { keyId: request.principal?.keyId ?? 'anonymous', owner });
    },
  );
}
