/** What the PC says when a push did not end in approval, and what the user can do next. */
export function pushProblem(status: string): { heading: string; text: string } {
  switch (status) {
    case 'denied':
      return {
        heading: 'Request denied',
        text: 'The request was denied in the app. If that was a mistake, select Try again.',
      };
    case 'reported':
      return {
        heading: 'Sign-in stopped',
        text: 'You said in the app that this sign-in was not you. Your IT team can see your report, and requests to your app are paused for a while. If it was you after all, use a verification code instead, or contact your IT service desk.',
      };
    case 'wrong_number':
      return {
        heading: 'The number did not match',
        text: 'The number entered in the app did not match the number on this screen. Select Try again to get a new number.',
      };
    case 'cancelled':
      return {
        heading: 'Request cancelled',
        text: 'The request was cancelled. Select Try again to send a new one.',
      };
    case 'blocked':
      return {
        heading: 'Requests are paused',
        text: 'For your security, requests to your app are paused for a while after several were denied or reported. Use a verification code from the app instead, or contact your IT service desk.',
      };
    case 'too_many':
      return {
        heading: 'Too many requests',
        text: 'Several requests are already waiting. Answer one in the app, or wait 2 minutes and try again.',
      };
    case 'no_device':
      return {
        heading: 'No app to send a request to',
        text: 'Use a verification code instead, or contact your IT service desk.',
      };
    case 'none':
      return {
        heading: 'Approve sign in request',
        text: 'Select Send a request to my app, then enter the number this page shows in the app.',
      };
    default:
      return {
        heading: 'We did not hear from your app',
        text: 'The request expired before it was approved. Check your phone is online, then select Try again.',
      };
  }
}
