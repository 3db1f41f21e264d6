import type { Keyv } from 'keyv';
import type { Binding } from '../domain/binding';
import type { VerificationStore } from '../verification/ports';

/** Runs one store operation, turning any failure into store_unavailable. */
export type Guard = <T>(operation: string, work: () => Promise<T>) => Promise<T>;

/** The binding operations of a shared store, over a Keyv that throws on errors. */
export const keyvBindings = (
  bindings: Keyv<Binding>,
  guard: Guard,
): Pick<VerificationStore, 'getBinding' | 'putBinding' | 'deleteBinding'> => ({
  getBinding: (userId) => guard('getBinding', async () => (await bindings.get(userId)) ?? undefined),
  putBinding: (binding) =>
    guard('putBinding', async () => {
      await bindings.set(binding.userId, binding);
    }),
  deleteBinding: (userId) => guard('deleteBinding', () => bindings.delete(userId)),
});
