import { useEffect, useRef } from 'preact/hooks';

/** What an action asks before it runs. */
export interface PendingAction {
  readonly title: string;
  readonly detail: string;
  readonly confirmLabel: string;
  readonly run: () => Promise<void>;
}

/**
 * The confirmation every lifecycle and identity action asks for: a modal `<dialog>` (focus is
 * kept inside, Escape cancels), with Cancel focused first so a stray Enter does nothing.
 */
export function ConfirmDialog({
  action,
  onClose,
}: {
  action: PendingAction | undefined;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (action && !dialog.open) {
      dialog.showModal();
      cancel.current?.focus();
    }
    if (!action && dialog.open) dialog.close();
  }, [action]);
  return (
    <dialog
      ref={ref}
      aria-labelledby="confirm-title"
      aria-describedby="confirm-detail"
      onClose={onClose}
    >
      <h2 id="confirm-title">{action?.title}</h2>
      <p id="confirm-detail">{action?.detail}</p>
      <div class="actions">
        <button type="button" ref={cancel} onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          class="danger"
          onClick={() => {
            const run = action?.run;
            onClose();
            void run?.();
          }}
        >
          {action?.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
