// Run-time settings. The provisioner writes /config.json next to index.html at deploy time, so one
// build serves every stack (AWS or the local cloud). Nothing here is baked in at build time.

export interface AppConfig {
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  /** API Gateway stage URL, without a trailing slash. */
  apiUrl: string;
  /** Only on the local cloud: the Cognito stand-in's URL (moto). Passed to the Cognito library. */
  cognitoEndpoint: string | null;
  /** The pool lets users sign themselves up (shows "Create account"). */
  selfSignUp: boolean;
  stackName: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function requireString(raw: Record<string, unknown>, key: string): string {
  const value = raw[key];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(`config.json: "${key}" must be a non-empty string`);
  }
  return value.trim();
}

/** Validates the parsed JSON; throws ConfigError naming the bad field. */
export function parseConfig(raw: unknown): AppConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('config.json must be a JSON object');
  }
  const r = raw as Record<string, unknown>;
  const endpoint = r.cognitoEndpoint;
  if (endpoint !== undefined && endpoint !== null && typeof endpoint !== 'string') {
    throw new ConfigError('config.json: "cognitoEndpoint" must be a URL string or null');
  }
  const apiUrl = requireString(r, 'apiUrl').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(apiUrl)) throw new ConfigError('config.json: "apiUrl" must be an http(s) URL');
  return {
    region: requireString(r, 'region'),
    userPoolId: requireString(r, 'userPoolId'),
    userPoolClientId: requireString(r, 'userPoolClientId'),
    apiUrl,
    cognitoEndpoint: typeof endpoint === 'string' && endpoint.trim() !== '' ? endpoint.trim() : null,
    selfSignUp: r.selfSignUp === true,
    stackName: typeof r.stackName === 'string' ? r.stackName : '',
  };
}

/** Fetches /config.json from the site root, bypassing caches so a redeploy is picked up at once. */
export async function loadConfig(fetchFn: typeof fetch = fetch, url = '/config.json'): Promise<AppConfig> {
  let res: Response;
  try {
    res = await fetchFn(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
  } catch {
    throw new ConfigError(`Could not download ${url}. Check your connection and reload.`);
  }
  if (!res.ok) {
    throw new ConfigError(
      `${url} answered HTTP ${res.status}. The deployment is missing its settings file — redeploy the stack (the provisioner writes it).`,
    );
  }
  let raw: unknown;
  try {
    raw = await res.json();
  } catch {
    throw new ConfigError(`${url} is not valid JSON.`);
  }
  return parseConfig(raw);
}
