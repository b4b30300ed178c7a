import { describe, expect, it } from 'vitest';
import { authErrorMessage } from '../src/auth/messages';
import { ConfigError, loadConfig, parseConfig } from '../src/config';
import { shortcutFor } from '../src/ui/shortcuts';
import { usageText } from '../src/ui/usage';
import { json, scriptedFetch } from './helpers';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe('shortcutFor', () => {
  it('maps the documented keys', () => {
    expect(shortcutFor(key('b'), false)).toBe('brush');
    expect(shortcutFor(key('B', { shiftKey: true }), false)).toBe('brush');
    expect(shortcutFor(key('e'), false)).toBe('eraser');
    expect(shortcutFor(key('z', { ctrlKey: true }), false)).toBe('undo');
    expect(shortcutFor(key('z', { metaKey: true }), false)).toBe('undo');
    expect(shortcutFor(key('Z', { ctrlKey: true, shiftKey: true }), false)).toBe('redo');
    expect(shortcutFor(key('y', { ctrlKey: true }), false)).toBe('redo');
    expect(shortcutFor(key('Enter', { ctrlKey: true }), false)).toBe('submit');
    expect(shortcutFor(key('Enter', { metaKey: true }), true)).toBe('submit');
    expect(shortcutFor(key('['), false)).toBe('smaller');
    expect(shortcutFor(key(']'), false)).toBe('bigger');
    expect(shortcutFor(key('h'), false)).toBe('toggle-mask');
    expect(shortcutFor(key('Escape'), true)).toBe('cancel');
  });

  it('leaves typing alone: letters and Ctrl+Z in a text field are the field’s', () => {
    expect(shortcutFor(key('b'), true)).toBeNull();
    expect(shortcutFor(key('z', { ctrlKey: true }), true)).toBeNull();
    expect(shortcutFor(key('Enter'), false)).toBeNull();
    expect(shortcutFor(key('b', { ctrlKey: true }), false)).toBeNull();
    expect(shortcutFor(key('b', { altKey: true }), false)).toBeNull();
  });
});

describe('config', () => {
  const good = {
    region: 'us-west-2',
    userPoolId: 'us-west-2_abc',
    userPoolClientId: 'xyz',
    apiUrl: 'https://abc.execute-api.us-west-2.amazonaws.com/prod/',
    cognitoEndpoint: null,
    selfSignUp: true,
    stackName: 'dev',
  };

  it('parses the contract example and trims the API URL', () => {
    expect(parseConfig(good)).toEqual({ ...good, apiUrl: 'https://abc.execute-api.us-west-2.amazonaws.com/prod' });
  });

  it('accepts the local cloud form (moto pool ids are long); its "local" flag changes nothing in the app', () => {
    const local = { ...good, userPoolId: `us-east-1_${'a'.repeat(32)}`, apiUrl: 'http://127.0.0.1:4010/prod', cognitoEndpoint: 'http://127.0.0.1:5000' };
    const c = parseConfig({ ...local, local: true });
    expect(c.cognitoEndpoint).toBe('http://127.0.0.1:5000');
    // Sign-in is SRP everywhere; the flag stays in config.json for the e2e walk (e2e/app.e2e.mjs).
    expect(c).toEqual(local);
  });

  it('names the bad field', () => {
    expect(() => parseConfig({ ...good, userPoolId: '' })).toThrow(/"userPoolId"/);
    expect(() => parseConfig({ ...good, apiUrl: 'ftp://x' })).toThrow(/"apiUrl"/);
    expect(() => parseConfig({ ...good, cognitoEndpoint: 5 })).toThrow(/"cognitoEndpoint"/);
    expect(() => parseConfig([])).toThrow(ConfigError);
  });

  it('loadConfig fetches /config.json without caching and explains failures', async () => {
    const ok = scriptedFetch(json(200, good));
    await expect(loadConfig(ok.fetch)).resolves.toMatchObject({ stackName: 'dev' });
    expect(ok.calls[0]!.url).toBe('/config.json');
    expect(ok.calls[0]!.init.cache).toBe('no-store');
    await expect(loadConfig(scriptedFetch(json(404, {})).fetch)).rejects.toThrow(/HTTP 404.*redeploy/);
    await expect(loadConfig(scriptedFetch(new Response('<html></html>', { status: 200 })).fetch)).rejects.toThrow(/not valid JSON/);
    await expect(loadConfig(scriptedFetch(new TypeError('offline')).fetch)).rejects.toThrow(/Could not download/);
  });
});

describe('authErrorMessage', () => {
  it('turns Cognito codes into sentences without leaking which part was wrong', () => {
    expect(authErrorMessage({ code: 'NotAuthorizedException', message: 'Incorrect username or password.' })).toBe('Incorrect e-mail or password.');
    expect(authErrorMessage({ code: 'UserNotFoundException' })).toBe('Incorrect e-mail or password.');
    expect(authErrorMessage({ code: 'CodeMismatchException' })).toMatch(/code is not right/);
    expect(authErrorMessage({ code: 'InvalidPasswordException', message: 'Password does not conform to policy: Password must have symbol characters' })).toMatch(/not strong enough: Password must have symbol/);
    expect(authErrorMessage({ code: 'NetworkError', message: 'Network error' })).toMatch(/Could not reach the sign-in service/);
    expect(authErrorMessage(new Error('The two passwords are not the same.'))).toMatch(/not the same/);
  });

  it('shows the reason of a sign-up the stack refused, without Cognito\'s wrapping', () => {
    const reason = 'Sign-up is open only to e-mail addresses at example.com. Ask the workshop host for an invitation.';
    expect(authErrorMessage({ code: 'UserLambdaValidationException', message: `PreSignUp failed with error ${reason}.` })).toBe(reason);
    expect(authErrorMessage({ code: 'UnexpectedLambdaException', message: 'PreSignUp invocation failed due to error AccessDeniedException.' })).toMatch(
      /could not be checked/,
    );
  });
});

describe('usageText', () => {
  const u = (userUsed: number, userLimit: number, appUsed: number, appLimit: number) => {
    const user = { used: userUsed, limit: userLimit, left: Math.max(0, userLimit - userUsed) };
    const app = { used: appUsed, limit: appLimit, left: Math.max(0, appLimit - appUsed) };
    return { day: '2026-12-02', resetsAt: '2026-12-03T00:00:00Z', secondsToReset: 3600, left: Math.min(user.left, app.left), user, app };
  };
  it('says what is left today and which limit binds', () => {
    expect(usageText(u(3, 50, 10, 500), 'UTC')).toBe('47 images left today of your 50; the count starts again at 00:00 UTC.');
    expect(usageText(u(49, 50, 10, 500), 'UTC')).toMatch(/^1 image left today/);
    expect(usageText(u(3, 50, 498, 500), 'UTC')).toBe('2 images left today (the whole app has 2 of 500 left); the count starts again at 00:00 UTC.');
    expect(usageText(u(50, 50, 60, 500), 'UTC')).toBe('You have made your 50 images for today; the count starts again at 00:00 UTC.');
    expect(usageText(u(3, 50, 500, 500), 'UTC')).toMatch(/^This app has made its 500 images for today/);
  });
  it('says when the count starts again in the reader\'s own time, with UTC beside it', () => {
    expect(usageText(u(3, 50, 10, 500), 'Europe/Paris')).toBe('47 images left today of your 50; the count starts again at 01:00 your time (00:00 UTC).');
    expect(usageText(u(50, 50, 60, 500), 'America/Los_Angeles')).toBe('You have made your 50 images for today; the count starts again at 16:00 your time (00:00 UTC).');
    expect(usageText(u(3, 50, 10, 500), 'Asia/Kolkata')).toMatch(/at 05:30 your time \(00:00 UTC\)\.$/);
    expect(usageText({ ...u(3, 50, 10, 500), resetsAt: 'soon' }, 'Europe/Paris')).toMatch(/at 00:00 UTC\.$/);
  });
});
