// Keyboard shortcuts. B brush, E eraser, [ and ] brush size, H show/hide mask, Ctrl/Cmd+Z undo,
// Shift+Ctrl/Cmd+Z (or Ctrl+Y) redo, Ctrl/Cmd+Enter submit, Escape cancels a running edit.
// Single letters never fire while the user types in a field; Ctrl+Z there stays the field's own undo.

export type ShortcutAction = 'brush' | 'eraser' | 'undo' | 'redo' | 'submit' | 'cancel' | 'smaller' | 'bigger' | 'toggle-mask';

export const SHORTCUT_HELP: [string, string][] = [
  ['B', 'Brush'],
  ['E', 'Eraser'],
  ['[ / ]', 'Smaller / bigger brush'],
  ['H', 'Show / hide the mask'],
  ['Ctrl/⌘ + Z', 'Undo'],
  ['Shift + Ctrl/⌘ + Z', 'Redo'],
  ['Ctrl/⌘ + Enter', 'Submit'],
  ['Esc', 'Cancel a running edit'],
  // The keyboard mask (mask/rect.ts): these work while the picture has focus.
  ['Arrows (picture focused)', 'Move the mask rectangle'],
  ['Shift + arrows', 'Resize the mask rectangle'],
  ['Enter / Delete', 'Add the rectangle to the mask / take it out'],
];

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/** Which action a key press means; `typing` = focus is in a text field. Pure. */
export function shortcutFor(e: KeyLike, typing: boolean): ShortcutAction | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod && key === 'Enter') return 'submit';
  if (key === 'Escape') return 'cancel';
  if (typing || e.altKey) return null;
  if (mod && key === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (mod && key === 'y' && !e.shiftKey) return 'redo';
  if (mod) return null;
  switch (key) {
    case 'b':
      return 'brush';
    case 'e':
      return 'eraser';
    case '[':
      return 'smaller';
    case ']':
      return 'bigger';
    case 'h':
      return 'toggle-mask';
    default:
      return null;
  }
}

export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !['button', 'checkbox', 'radio', 'range', 'submit', 'reset', 'file', 'color'].includes(target.type);
  }
  return false;
}

export function installShortcuts(handler: (action: ShortcutAction) => boolean): () => void {
  const onKey = (ev: KeyboardEvent) => {
    if (ev.defaultPrevented || ev.isComposing) return;
    // Leave dialogs (e.g. delete confirmation) their own keys.
    if (ev.target instanceof Element && ev.target.closest('dialog')) return;
    const action = shortcutFor(ev, isTyping(ev.target));
    if (action && handler(action)) ev.preventDefault();
  };
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
}
