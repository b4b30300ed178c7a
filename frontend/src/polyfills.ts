// amazon-cognito-identity-js depends on buffer@4, which reads the Node-style `global` object.
// Browsers only have globalThis; this must run before that library is evaluated (main.ts imports it first).
const g = globalThis as typeof globalThis & { global?: typeof globalThis };
g.global ??= globalThis;

export {};
