import type { SendSubject } from '../verification/ports';

/**
 * One key per (scenario, user). The scenario comes first: it never contains `:`, so
 * the split is unambiguous although user ids may contain `:`.
 */
export const subjectKey = (s: SendSubject): string => `${s.scenario}:${s.userId}`;

/** Fixed windows of `windowMs` are numbered from the epoch; all replicas agree on the numbering. */
export const windowIndex = (now: number, windowMs: number): number => Math.floor(now / windowMs);
