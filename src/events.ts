/**
 * A tiny typed in-process event bus. Listeners run after the emitter's work is
 * committed; a throwing listener is reported, never propagated to the emitter.
 */
export interface EventBus<E> {
  on(listener: (event: E) => void): () => void;
  emit(event: E): void;
}

export function createEventBus<E>(onListenerError: (err: unknown) => void = () => {}): EventBus<E> {
  const listeners = new Set<(event: E) => void>();
  return {
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch (err) {
          onListenerError(err);
        }
      }
    },
  };
}
