/** What the page says when a call did not verify the number. */
export function callProblem(status: string): { heading: string; text: string } {
  switch (status) {
    case 'wrong_key':
      return {
        heading: 'The wrong key was pressed',
        text: 'To verify, answer the call and press the # key. Select Try again for a new call.',
      };
    case 'rejected':
      return { heading: 'The call was declined', text: 'Select Try again to get a new call, and answer it.' };
    case 'reported':
      return {
        heading: 'You told us this was not you',
        text: 'The sign-in was stopped and your IT team can see the report. Calls to your phone are paused for a while.',
      };
    case 'failed':
      return {
        heading: 'We could not call your phone',
        text: 'Check the number, then select Try again, or choose a different method.',
      };
    case 'no_answer':
      return { heading: 'The call was not answered', text: 'Keep your phone nearby, then select Try again.' };
    default:
      return { heading: 'The call has expired', text: 'Select Try again to get a new call.' };
  }
}

/** The page title of the call page: the same words as its heading, whatever the call's state. */
export function callTitle(status: string): string {
  if (status === 'pending') return 'We are calling your phone';
  if (status === 'confirmed') return 'Call answered';
  return callProblem(status).heading;
}
