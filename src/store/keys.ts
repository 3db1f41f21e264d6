import type { SendSubject } from '../verification/ports';

/**
 * One key per (scenario, user). The scenario comes first: it never contains `:`, so
 * the split is unambiguous although user ids may contain `:`.
 */
export const subjectKey = (s: SendSubject): string => `${s.scenario}:${s.userId}`;
