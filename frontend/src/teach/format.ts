// The teaching panel's pure helpers: show a request without megabytes of base64, and turn it into a
// curl command that does not leak the token unless the user explicitly asks for it.

const DATA_URL = /^data:([\w/+.-]+);base64,/;

function isLongBase64(s: string): boolean {
  return s.length > 200 && /^[A-Za-z0-9+/=\s]+$/.test(s.slice(0, 200));
}

function describe(s: string): string {
  const m = DATA_URL.exec(s);
  const payload = m ? s.length - m[0].length : s.length;
  const kb = Math.round((payload * 3) / 4 / 1024);
  return m ? `${m[0]}… (${kb} KB of ${m[1]} elided)` : `… (${kb} KB of base64 elided)`;
}

/** A copy of `value` in which every image (data URL or long bare base64) is replaced by a short note. */
export function elideImages<T>(value: T): T {
  if (typeof value === 'string') {
    return (DATA_URL.test(value) || isLongBase64(value) ? describe(value) : value) as T;
  }
  if (Array.isArray(value)) return value.map((v) => elideImages(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = elideImages(v);
    return out as T;
  }
  return value;
}

/** POSIX shell single-quoting. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface CurlInput {
  method: string;
  url: string;
  body?: unknown;
  /** The real token — only when the user asked to include it. Otherwise "$TOKEN" is used. */
  token?: string;
  /** Bodies longer than this are read from request.json instead of being inlined. */
  inlineLimit?: number;
}

/** A runnable curl command. Large bodies (images) go to a file the panel offers for download. */
export function curlCommand({ method, url, body, token, inlineLimit = 4096 }: CurlInput): { command: string; bodyFile: string | null } {
  const auth = token ? shellQuote(`Authorization: ${token}`) : '"Authorization: $TOKEN"';
  const lines = [`curl -sS -X ${method} ${shellQuote(url)}`, `  -H ${auth}`];
  let bodyFile: string | null = null;
  if (body !== undefined) {
    const json = JSON.stringify(body);
    lines.push(`  -H 'Content-Type: application/json'`);
    if (json.length > inlineLimit) {
      bodyFile = json;
      lines.push('  --data @request.json');
    } else {
      lines.push(`  --data ${shellQuote(json)}`);
    }
  }
  const command = lines.join(' \\\n');
  const preface = token ? '' : '# TOKEN is your ID token: use "Copy ID token", then  export TOKEN=\'…\'\n';
  return { command: preface + command, bodyFile };
}
