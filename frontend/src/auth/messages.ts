// Cognito's error codes → sentences for the sign-in forms.

export function authErrorMessage(err: unknown): string {
  const e = (err ?? {}) as { code?: string; name?: string; message?: string };
  const code = e.code ?? e.name ?? '';
  const msg = typeof e.message === 'string' ? e.message : '';
  switch (code) {
    case 'NotAuthorizedException':
      if (/disabled/i.test(msg)) return 'This account is disabled. Ask the administrator.';
      if (/attempts exceeded/i.test(msg)) return 'Too many failed attempts. Wait a few minutes, then try again.';
      if (/temporary password has expired/i.test(msg))
        return 'Your temporary password has expired. Ask the administrator to send a new invitation.';
      return 'Incorrect e-mail or password.';
    case 'UserNotFoundException':
      return 'Incorrect e-mail or password.';
    case 'UsernameExistsException':
      return 'An account with this e-mail already exists. Sign in, or use "Forgot password".';
    case 'InvalidPasswordException':
      return msg ? `The password is not strong enough: ${msg.replace(/^Password does not conform to policy: /, '')}` : 'The password is not strong enough.';
    case 'InvalidParameterException':
      return msg || 'Some input was not accepted. Check the e-mail address and password.';
    case 'UserLambdaValidationException':
      // The stack's pre sign-up check refused (e.g. an e-mail domain outside `auth.allowed_email_domains`):
      // Cognito wraps the function's reason as "PreSignUp failed with error REASON." — show the reason.
      return msg ? msg.replace(/^\w+ failed with error /, '').replace(/\.\.$/, '.') : 'Sign-up was refused. Ask the workshop host for an invitation.';
    case 'UnexpectedLambdaException':
      return 'Sign-up could not be checked right now. Try again later, or ask the workshop host for an invitation.';
    case 'CodeMismatchException':
      return 'That code is not right. Check the e-mail and type it again.';
    case 'ExpiredCodeException':
      return 'That code has expired. Ask for a new one.';
    case 'LimitExceededException':
    case 'TooManyRequestsException':
    case 'TooManyFailedAttemptsException':
      return 'Too many attempts. Wait a few minutes, then try again.';
    case 'PasswordResetRequiredException':
      return 'You need to choose a new password: use "Forgot password".';
    case 'UserNotConfirmedException':
      return 'This account is not confirmed yet: enter the code from the e-mail.';
    case 'NetworkError':
      return 'Could not reach the sign-in service. Check your connection and try again.';
    case 'Unsupported':
      return msg;
    default:
      if (/network|failed to fetch|load failed/i.test(msg)) {
        return 'Could not reach the sign-in service. Check your connection and try again.';
      }
      return msg ? `Sign-in failed: ${msg}` : 'Sign-in failed. Please try again.';
  }
}
