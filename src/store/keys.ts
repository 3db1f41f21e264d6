import type { SendSubject } from '../verification/ports';

/**
 * One key per (scenario, user). The scenario comes first: it never contains `:`, so
 * the split is unambiguous although user ids may contain `:`.
 */
/** Schedules are kept in whole microseconds, so intervals under a millisecond stay exact. */
export const toMicros = (ms: number): number => Math.round(ms * 1000);

export const subjectKey = (s: SendSubject): string => `${s.scenario}:${s.userId}`;
