import type { Logger } from 'winston';
import type { StateChange } from '../../runtime/runtime.ts';

/**
 * States that need a person carry the tag `alert` in their machine (an
 * order `blocked` after its last payment attempt, an application whose
 * documents could not be downloaded). Entering one raises an alert; staying
 * in it does not raise another, and repeats of the same actor group.
 */
export const ATTENTION_TAG = 'alert';

export interface AttentionSink {
  raise(input: {
    kind: string;
    severity?: 'critical' | 'warning';
    subject: string;
    message: string;
    details?: Record<string, unknown>;
  }): Promise<unknown>;
}

export function alertOnAttention(sink: AttentionSink, logger: Logger): (change: StateChange) => void {
  return (change) => {
    if (!change.tags.includes(ATTENTION_TAG) || change.previousTags.includes(ATTENTION_TAG)) return;
    void sink
      .raise({
        kind: 'actor_needs_attention',
        severity: 'critical',
        subject: `${change.type}/${change.id}`,
        message: `${change.type} ${change.id} entered ${change.to} (on ${change.eventType}) and needs a person`,
        details: { type: change.type, id: change.id, from: change.from, to: change.to, event: change.eventType, revision: change.revision },
      })
      .catch((error: unknown) => logger.error('alert could not be raised', { error: String(error) }));
  };
}
