// Undo/redo for the mask editor. The editor stores drawing operations (not bitmaps: a 9-megapixel
// snapshot is 36 MB) and replays them after an undo.

export class UndoStack<T> {
  private done: T[] = [];
  private undone: T[] = [];

  /** A new operation; anything undone before it can no longer be redone. */
  push(op: T): void {
    this.done.push(op);
    this.undone = [];
  }

  /** The operation taken back, or undefined when there is none. */
  undo(): T | undefined {
    const op = this.done.pop();
    if (op !== undefined) this.undone.push(op);
    return op;
  }

  redo(): T | undefined {
    const op = this.undone.pop();
    if (op !== undefined) this.done.push(op);
    return op;
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** The operations in effect, oldest first (what to replay). */
  get ops(): readonly T[] {
    return this.done;
  }

  reset(): void {
    this.done = [];
    this.undone = [];
  }
}
