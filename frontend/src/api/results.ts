// Kept results are read through short-lived presigned links (ResultImage.expiresAt, about an hour,
// and sooner when the credentials that signed them expire). A page left open, or a history read
// an hour ago, holds dead links: before using a link past its time, and once after a link is
// refused, the app asks GET /edits/{id} for fresh ones. `data:` URLs (a stack that keeps nothing)
// never expire.

import type { EditRecord, ResultImage } from './types';

/** A link this close to its expiry is treated as expired: it may die between the check and the read. */
export const EXPIRY_MARGIN_MS = 60_000;

/** Whether the link must be renewed before it is used. */
export function linkExpired(img: ResultImage, now: number = Date.now()): boolean {
  if (img.expiresAt === null || img.url.startsWith('data:')) return false;
  const at = Date.parse(img.expiresAt);
  return Number.isNaN(at) || at - EXPIRY_MARGIN_MS <= now;
}

/** What History says of an edit's pictures. */
export type Keeping =
  | { kind: 'kept'; until: string | null }
  | { kind: 'expired'; since: string }
  | { kind: 'not-kept' }
  | { kind: 'none' };

/**
 * Whether the record's pictures can still be had: kept (until when), deleted after `keptUntil`,
 * never kept (the stack keeps no results, or an older record), or there were none (not succeeded).
 */
export function keeping(record: EditRecord, now: number = Date.now()): Keeping {
  if (record.results?.length) return { kind: 'kept', until: record.keptUntil ?? null };
  if (record.status !== 'succeeded') return { kind: 'none' };
  const until = record.keptUntil ? Date.parse(record.keptUntil) : NaN;
  if (!Number.isNaN(until) && until <= now) return { kind: 'expired', since: record.keptUntil! };
  return { kind: 'not-kept' };
}

/** A file name for the image: `<base>.png` or `.jpg` after its type. */
export function resultFileName(base: string, img: ResultImage): string {
  return `${base}.${img.contentType === 'image/jpeg' ? 'jpg' : 'png'}`;
}

export class LinkExpiredError extends Error {
  override name = 'LinkExpiredError';
}

/**
 * Fresh links for the images of an edit. Several images of one edit (or one image asked twice)
 * share one GET /edits/{id}; a refresh that finds the pictures gone answers an empty list.
 */
export class ResultLinks {
  private readonly pending = new Map<string, Promise<ResultImage[]>>();

  constructor(
    private readonly getEdit: (id: string) => Promise<EditRecord>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The edit's images with fresh links (one request at a time per edit). */
  refresh(id: string): Promise<ResultImage[]> {
    let p = this.pending.get(id);
    if (!p) {
      p = this.getEdit(id).then((r) => r.results ?? []);
      this.pending.set(id, p);
      const forget = () => this.pending.delete(id);
      p.then(forget, forget);
    }
    return p;
  }

  /** Image `index` of edit `id` with a link that works now: `img` itself while its link holds. */
  async usable(id: string, index: number, img: ResultImage): Promise<ResultImage> {
    if (!linkExpired(img, this.now())) return img;
    return this.renewed(id, index);
  }

  /** Image `index` of edit `id` from a fresh read; throws when the pictures are gone. */
  async renewed(id: string, index: number): Promise<ResultImage> {
    const fresh = (await this.refresh(id))[index];
    if (!fresh) throw new LinkExpiredError('This picture is no longer kept: it was deleted, or its time in History ran out.');
    return fresh;
  }

  /**
   * The image's bytes (for "use as input"): read through a usable link, and once more through a
   * fresh one when the first read is refused (a link dies early when its signing credentials expire).
   */
  async blob(id: string, index: number, img: ResultImage, fetchFn: typeof fetch = (u, i) => globalThis.fetch(u, i)): Promise<Blob> {
    const read = async (r: ResultImage) => {
      const res = await fetchFn(r.url).catch(() => {
        throw new LinkExpiredError('The picture could not be downloaded. Check your connection and try again.');
      });
      if (!res.ok) throw new LinkExpiredError(`The picture could not be read (HTTP ${res.status}).`);
      const b = await res.blob();
      // The file checks go by type: a bucket may answer a generic one.
      return b.type === r.contentType ? b : new Blob([b], { type: r.contentType });
    };
    const first = await this.usable(id, index, img);
    try {
      return await read(first);
    } catch (err) {
      if (first.url.startsWith('data:')) throw err;
      return read(await this.renewed(id, index));
    }
  }
}
