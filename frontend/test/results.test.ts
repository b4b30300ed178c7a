// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXPIRY_MARGIN_MS, LinkExpiredError, ResultLinks, keeping, linkExpired, resultFileName } from '../src/api/results';
import type { EditRecord, EditResponse, ResultImage } from '../src/api/types';
import { download } from '../src/ui/dom';
import { ResultsView, fromRecord, fromResponse, keptText, resultImage } from '../src/ui/results';

vi.mock('../src/ui/dom', async (original) => ({ ...(await original<typeof import('../src/ui/dom')>()), download: vi.fn() }));

const NOW = Date.parse('2026-12-05T22:00:00Z');
const link = (name: string, expiresAt: string | null = '2026-12-05T23:00:00Z'): ResultImage => ({
  url: `https://bucket.example.test/${name}.png?X-Amz-Signature=1`,
  downloadUrl: `https://bucket.example.test/${name}.png?X-Amz-Signature=1&response-content-disposition=attachment`,
  contentType: 'image/png',
  width: 512,
  height: 384,
  bytes: 1234,
  expiresAt,
});
const record = (over: Partial<EditRecord> = {}): EditRecord => ({
  id: '01EDIT',
  createdAt: '2026-12-05T21:00:00Z',
  operation: 'inpaint',
  prompt: 'a red door',
  model: 'us.stability.stable-image-inpaint-v1:0',
  seeds: [7],
  status: 'succeeded',
  durationMs: 4200,
  results: [link('fresh')],
  keptUntil: '2026-12-12T00:00:00Z',
  ...over,
});

describe('result links', () => {
  it('a link is renewed once it is (nearly) past expiresAt; data: URLs never', () => {
    expect(linkExpired(link('a'), NOW)).toBe(false);
    expect(linkExpired(link('a', '2026-12-05T22:00:30Z'), NOW)).toBe(true); // inside the margin
    expect(linkExpired(link('a', new Date(NOW + EXPIRY_MARGIN_MS + 1000).toISOString()), NOW)).toBe(false);
    expect(linkExpired(link('a', '2026-12-05T21:00:00Z'), NOW)).toBe(true);
    expect(linkExpired(link('a', 'not a date'), NOW)).toBe(true);
    expect(linkExpired({ ...link('a', null), url: 'data:image/png;base64,AAAA' }, NOW)).toBe(false);
  });

  it('what History says of the pictures: kept, deleted after keptUntil, not kept, none', () => {
    expect(keeping(record(), NOW)).toEqual({ kind: 'kept', until: '2026-12-12T00:00:00Z' });
    expect(keeping(record({ results: [], keptUntil: '2026-12-01T00:00:00Z' }), NOW)).toEqual({ kind: 'expired', since: '2026-12-01T00:00:00Z' });
    expect(keeping(record({ results: [], keptUntil: null }), NOW)).toEqual({ kind: 'not-kept' });
    expect(keeping(record({ results: undefined, keptUntil: undefined }), NOW)).toEqual({ kind: 'not-kept' });
    expect(keeping(record({ status: 'failed', results: [] }), NOW)).toEqual({ kind: 'none' });
  });

  it('file names follow the image type', () => {
    expect(resultFileName('edit-1', link('a'))).toBe('edit-1.png');
    expect(resultFileName('edit-1', { ...link('a'), contentType: 'image/jpeg' })).toBe('edit-1.jpg');
  });

  it('fresh links come from GET /edits/{id}, one request for all the images asking at once', async () => {
    const getEdit = vi.fn(async () => record({ results: [link('new-0'), link('new-1')] }));
    const links = new ResultLinks(getEdit, () => NOW);
    const stale = link('old', '2026-12-05T21:59:00Z');
    const [a, b] = await Promise.all([links.usable('01EDIT', 0, stale), links.usable('01EDIT', 1, stale)]);
    expect([a.url, b.url]).toEqual([link('new-0').url, link('new-1').url]);
    expect(getEdit).toHaveBeenCalledTimes(1);
    // A link that holds is used as it is.
    const fresh = link('fresh');
    expect(await links.usable('01EDIT', 0, fresh)).toBe(fresh);
    expect(getEdit).toHaveBeenCalledTimes(1);
  });

  it('pictures gone after keptUntil: a renewal says so', async () => {
    const links = new ResultLinks(async () => record({ results: [], keptUntil: '2026-12-01T00:00:00Z' }), () => NOW);
    await expect(links.renewed('01EDIT', 0)).rejects.toBeInstanceOf(LinkExpiredError);
  });

  it('"use as input" reads the bytes, once more through a fresh link when the first is refused', async () => {
    const getEdit = vi.fn(async () => record({ results: [link('renewed')] }));
    const links = new ResultLinks(getEdit, () => NOW);
    const fetchFn = vi.fn(async (url: RequestInfo | URL) =>
      String(url).includes('renewed') ? new Response(new Uint8Array([137, 80, 78, 71]), { headers: { 'Content-Type': 'binary/octet-stream' } }) : new Response('<Error/>', { status: 403 }),
    );
    const blob = await links.blob('01EDIT', 0, link('dead'), fetchFn as typeof fetch);
    expect(fetchFn.mock.calls.map((c) => String(c[0]))).toEqual([link('dead').url, link('renewed').url]);
    // The file checks go by type: the bucket's generic one is replaced by the image's.
    expect(blob.type).toBe('image/png');
    expect(blob.size).toBe(4);
  });
});

describe('showing results', () => {
  const response = (over: Partial<EditResponse> = {}): EditResponse => ({
    id: '01EDIT',
    images: [link('made')],
    keptUntil: '2026-12-12T00:00:00Z',
    seeds: [42],
    model: 'us.stability.stable-image-inpaint-v1:0',
    operation: 'inpaint',
    durationMs: 3100,
    notices: [],
    standIn: false,
    ...over,
  });
  const actions = () => ({ useAsInput: vi.fn(), reuseSeed: vi.fn(), failed: vi.fn() });
  beforeEach(() => {
    vi.mocked(download).mockClear();
    // The links' expiry is read against the clock: the fixtures' clock, not today's.
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => vi.useRealTimers());

  it('reads each image from its link (no base64 in the answer), with the input to compare', () => {
    const view = new ResultsView(new ResultLinks(vi.fn()), actions());
    view.show(fromResponse(response(), { input: 'data:image/png;base64,IN', before: null, mask: null, at: new Date() }));
    expect(view.el.hidden).toBe(false);
    expect(view.el.querySelector<HTMLImageElement>('.compare img.after')!.getAttribute('src')).toBe(link('made').url);
    expect(view.el.querySelector<HTMLImageElement>('.compare img.before')!.getAttribute('src')).toBe('data:image/png;base64,IN');
    expect(view.el.querySelector('.result-kept')!.textContent).toBe(keptText('2026-12-12T00:00:00Z'));
  });

  it('"Clear view" only hides the view and says the pictures stay in History', () => {
    const view = new ResultsView(new ResultLinks(vi.fn()), actions());
    view.show(fromResponse(response(), { input: null, before: null, mask: null, at: new Date() }));
    const clear = [...view.el.querySelectorAll('button')].find((b) => b.textContent?.startsWith('Clear view'))!;
    expect(clear.textContent).toBe('Clear view (kept in History)');
    expect(clear.title).toMatch(/stay in History/);
    clear.click();
    expect(view.el.hidden).toBe(true);
    // A stack that keeps nothing: the label does not promise History.
    view.show(fromResponse(response({ keptUntil: null }), { input: null, before: null, mask: null, at: new Date() }));
    expect(view.el.querySelector('.result-kept')!.textContent).toMatch(/does not keep the pictures/);
    expect([...view.el.querySelectorAll('button')].some((b) => b.textContent === 'Clear view')).toBe(true);
  });

  it('a History record opens full size, without a compare slider', () => {
    const view = new ResultsView(new ResultLinks(vi.fn()), actions());
    view.show(fromRecord(record()));
    const img = view.el.querySelector<HTMLImageElement>('figure.result img.result-img')!;
    expect(img.getAttribute('src')).toBe(link('fresh').url);
    expect(view.el.querySelector('.compare')).toBeNull();
    expect(view.el.querySelector('.result-meta')!.textContent).toBe('Inpaint · 1 image · model us.stability.stable-image-inpaint-v1:0 · 4.2 s');
  });

  it('Download goes through downloadUrl, renewed first when the link has expired', async () => {
    const getEdit = vi.fn(async () => record({ results: [link('renewed')] }));
    const view = new ResultsView(new ResultLinks(getEdit), actions());
    view.show(fromRecord(record({ results: [link('old', '2020-01-01T00:00:00Z')] })));
    view.el.querySelector<HTMLButtonElement>('button[aria-label="Download Result 1"]')!.click();
    await vi.waitFor(() => expect(download).toHaveBeenCalled());
    expect(vi.mocked(download).mock.calls[0]).toEqual([link('renewed').downloadUrl, expect.stringMatching(/^edit-\d{8}-\d{6}-result-1\.png$/)]);
  });

  it('an image that fails to load gets a fresh link once; a second failure says so in its place', async () => {
    const getEdit = vi.fn(async () => record({ results: [link('renewed')] }));
    const links = new ResultLinks(getEdit);
    const box = document.createElement('div');
    const img = resultImage(links, '01EDIT', 0, link('dies-early'), document.createElement('img'));
    box.append(img);
    expect(img.getAttribute('src')).toBe(link('dies-early').url);
    img.dispatchEvent(new Event('error'));
    await vi.waitFor(() => expect(img.getAttribute('src')).toBe(link('renewed').url));
    img.dispatchEvent(new Event('error'));
    expect(box.querySelector('img')).toBeNull();
    expect(box.textContent).toMatch(/could not be loaded/);
    expect(getEdit).toHaveBeenCalledTimes(1);
  });

  it('an expired link is renewed before the browser asks for it', async () => {
    const getEdit = vi.fn(async () => record({ results: [link('renewed')] }));
    const img = resultImage(new ResultLinks(getEdit), '01EDIT', 0, link('old', '2020-01-01T00:00:00Z'), document.createElement('img'));
    expect(img.getAttribute('src')).toMatch(/^data:image\/gif/);
    await vi.waitFor(() => expect(img.getAttribute('src')).toBe(link('renewed').url));
  });
});
