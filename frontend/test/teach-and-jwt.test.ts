import { describe, expect, it } from 'vitest';
import { decodeJwt, tokenExpiry } from '../src/auth/jwt';
import { curlCommand, elideImages, shellQuote } from '../src/teach/format';
import { fakeJwt } from './helpers';

describe('decodeJwt', () => {
  it('decodes base64url claims, including non-ASCII text', () => {
    const t = fakeJwt({ sub: 'abc', email: 'zoë@example.com', exp: 1900000000, 'cognito:username': 'zoë' });
    expect(decodeJwt(t)).toMatchObject({ sub: 'abc', email: 'zoë@example.com', exp: 1900000000 });
    expect(tokenExpiry(t)).toBe(1900000000);
  });

  it('returns null (expiry 0) for anything that is not a JWT', () => {
    for (const bad of ['', 'abc', 'a.b', 'a.!!!.c', `x.${Buffer.from('[1]').toString('base64')}.y`]) {
      expect(decodeJwt(bad)).toBeNull();
      expect(tokenExpiry(bad)).toBe(0);
    }
  });
});

describe('elideImages', () => {
  const png = `data:image/png;base64,${'A'.repeat(4096)}`;
  it('shortens data URLs and long bare base64, anywhere in the request', () => {
    const out = elideImages({ operation: 'inpaint', prompt: 'a car', image: png, mask: 'QUJD'.repeat(100), options: { seed: 1 }, list: [png] });
    expect(out.prompt).toBe('a car');
    expect(out.image).toBe('data:image/png;base64,… (3 KB of image/png elided)');
    expect(out.mask).toMatch(/^… \(0 KB of base64 elided\)$/);
    expect(out.options).toEqual({ seed: 1 });
    expect(out.list[0]).toMatch(/elided/);
    expect(JSON.stringify(out).length).toBeLessThan(400);
  });

  it('leaves ordinary long text (a prompt) alone', () => {
    const prompt = 'a quiet street at dusk, '.repeat(20);
    expect(elideImages({ prompt }).prompt).toBe(prompt);
  });
});

describe('curlCommand', () => {
  it('uses $TOKEN, never the real token, unless asked', () => {
    const { command, bodyFile } = curlCommand({ method: 'POST', url: 'https://x.test/prod/edits', body: { operation: 'generate', prompt: "it's" } });
    expect(command).toContain('"Authorization: $TOKEN"');
    expect(command).toContain(`--data '{"operation":"generate","prompt":"it'\\''s"}'`);
    expect(command).toMatch(/^# TOKEN is your ID token/);
    expect(bodyFile).toBeNull();
  });

  it('includes the token only when given', () => {
    const { command } = curlCommand({ method: 'GET', url: 'https://x.test/prod/edits', token: 'eyJ.abc.def' });
    expect(command).toContain(`-H 'Authorization: eyJ.abc.def'`);
    expect(command).not.toContain('$TOKEN');
    expect(command).not.toContain('--data');
  });

  it('moves a large body (pictures) to request.json', () => {
    const body = { image: `data:image/png;base64,${'A'.repeat(10000)}` };
    const { command, bodyFile } = curlCommand({ method: 'POST', url: 'https://x.test/prod/edits', body });
    expect(command).toContain('--data @request.json');
    expect(JSON.parse(bodyFile!)).toEqual(body);
  });

  it('shellQuote survives quotes and $', () => {
    expect(shellQuote(`a'b $HOME`)).toBe(`'a'\\''b $HOME'`);
  });
});
