// The keyboard way to make a mask (no mouse, pen or touch needed): a rectangle over the picture that
// the arrow keys move and Shift+arrows resize; Enter adds it to the mask, Delete/Backspace takes its
// area out again, Escape leaves. Pure: rectangles are in image pixels with integer edges and always
// lie inside the picture, so filling one covers exactly its pixels at full opacity — the paint layer a
// brush leaves over the same area, hence the same exported mask.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type RectAction =
  | { kind: 'move'; dx: number; dy: number }
  | { kind: 'resize'; dw: number; dh: number }
  | { kind: 'add' }
  | { kind: 'remove' }
  | { kind: 'leave' };

export interface RectKey {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

/** One key press moves or resizes by about 1/32 of the picture's longer side (16 px on 512), at least 1 px. */
export function rectStep(width: number, height: number): number {
  return Math.max(1, Math.round(Math.max(width, height) / 32));
}

/** Where the rectangle starts: a quarter of each side, centred, on whole pixels. */
export function initialRect(width: number, height: number): Rect {
  const w = Math.max(1, Math.round(width / 4));
  const h = Math.max(1, Math.round(height / 4));
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/** Whole pixels, at least `min` (or the picture) wide and high, inside 0..width × 0..height. */
export function clampRect(r: Rect, width: number, height: number, min = 1): Rect {
  const w = Math.min(width, Math.max(Math.min(min, width), Math.round(r.width)));
  const h = Math.min(height, Math.max(Math.min(min, height), Math.round(r.height)));
  const x = Math.min(width - w, Math.max(0, Math.round(r.x)));
  const y = Math.min(height - h, Math.max(0, Math.round(r.y)));
  return { x, y, width: w, height: h };
}

/**
 * What a key press means for the rectangle; null leaves the key to the page (Tab, letters, and
 * anything with Ctrl/⌘/Alt: Ctrl+Z stays undo, Ctrl+Enter stays submit, Alt+← stays "back").
 */
export function rectKeyAction(e: RectKey): RectAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  const dir: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  const d = dir[e.key];
  if (d) return e.shiftKey ? { kind: 'resize', dw: d[0], dh: d[1] } : { kind: 'move', dx: d[0], dy: d[1] };
  switch (e.key) {
    case 'Enter':
      return { kind: 'add' };
    case 'Delete':
    case 'Backspace':
      return { kind: 'remove' };
    case 'Escape':
      return { kind: 'leave' };
    default:
      return null;
  }
}

/**
 * Moves (keeping the size; stops at the picture's edges) or resizes (the right and bottom edges:
 * Shift+→ wider, Shift+← narrower, Shift+↓ taller, Shift+↑ shorter; never below one step, never past
 * the picture). Other actions leave the rectangle as it is.
 */
export function applyRectAction(r: Rect, action: RectAction, step: number, width: number, height: number): Rect {
  if (action.kind === 'move') return clampRect({ ...r, x: r.x + action.dx * step, y: r.y + action.dy * step }, width, height);
  if (action.kind === 'resize') {
    const w = Math.min(width - r.x, Math.max(Math.min(step, width), r.width + action.dw * step));
    const h = Math.min(height - r.y, Math.max(Math.min(step, height), r.height + action.dh * step));
    return clampRect({ ...r, width: w, height: h }, width, height, 1);
  }
  return r;
}

/** For the live region: size first (what changes most), then the top-left corner, in image pixels. */
export function describeRect(r: Rect): string {
  return `${r.width} × ${r.height} pixels at x ${r.x}, y ${r.y}`;
}
