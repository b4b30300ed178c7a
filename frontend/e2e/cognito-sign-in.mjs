// The web app's sign-in (src/auth/cognito.ts), for the scripts in e2e/: amazon-cognito-identity-js's
// CognitoUser.authenticateUser — SRP, the library's default: InitiateAuth USER_SRP_AUTH, then
// RespondToAuthChallenge PASSWORD_VERIFIER with the proof, so the password never leaves the
// machine — and, for an invited user at the first sign-in, completeNewPasswordChallenge
// (RespondToAuthChallenge NEW_PASSWORD_REQUIRED). The app client allows no other password flow, on
// AWS and on the local cloud alike, whose Cognito verifies the proof.
//
// signInAsTheApp uses nothing but its arguments, so it runs in Node (rush.mjs, with the library from
// node_modules) and, from its source, in a page (cognito-cors.e2e.mjs, with the library's browser
// build): it is one function in both places.

/**
 * Signs `email` in with `password` through `lib` (the amazon-cognito-identity-js module, or
 * `window.AmazonCognitoIdentity` in a page). A new-password challenge is answered with
 * `newPassword` (refused without one). Resolves with the library's CognitoUserSession; rejects
 * with Cognito's error as the library reports it ({ code, message }), or with an error for a
 * challenge the web app does not take either (MFA, a custom challenge).
 *
 * `endpoint`: the Cognito endpoint (config.json's cognitoEndpoint on the local cloud; omitted on
 * AWS, where the library uses the pool's region).
 */
export function signInAsTheApp(lib, { userPoolId, clientId, endpoint, email, password, newPassword }) {
  return new Promise((resolve, reject) => {
    const pool = new lib.CognitoUserPool({ UserPoolId: userPoolId, ClientId: clientId, ...(endpoint ? { endpoint } : {}) });
    const user = new lib.CognitoUser({ Username: email.trim(), Pool: pool });
    const unsupported = (what) => () => reject(Object.assign(new Error(`${what} is not supported by the web app`), { code: 'Unsupported' }));
    let answered = false;
    const callbacks = {
      onSuccess: (session) => resolve(session),
      onFailure: (err) => reject(err),
      newPasswordRequired: () => {
        if (!newPassword || answered) {
          reject(Object.assign(new Error(`${email} must choose a new password`), { code: 'NewPasswordRequired' }));
          return;
        }
        answered = true;
        // No attributes: e-mail and e-mail_verified are set by the administrator, as in the app.
        user.completeNewPasswordChallenge(newPassword, {}, callbacks);
      },
      mfaRequired: unsupported('Multi-factor authentication'),
      totpRequired: unsupported('Multi-factor authentication'),
      mfaSetup: unsupported('Multi-factor authentication'),
      selectMFAType: unsupported('Multi-factor authentication'),
      customChallenge: unsupported('A custom sign-in challenge'),
    };
    user.authenticateUser(new lib.AuthenticationDetails({ Username: email.trim(), Password: password }), callbacks);
  });
}
