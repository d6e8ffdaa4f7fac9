import type { BgpMessageError, NotificationMessage } from './types.ts';
const ni = (): never => { throw new Error('not implemented'); };
/** "UPDATE Message Error / Malformed AS_PATH" style name for a code/subcode. */
export function describeError(code: number, subcode: number): string { void code; void subcode; return ni(); }
/** The NOTIFICATION to send for a BgpMessageError. */
export function notificationFromError(err: BgpMessageError): NotificationMessage { void err; return ni(); }
