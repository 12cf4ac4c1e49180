/** A payment provider's status, normalised: the payment machine moves by these, and each gateway maps its provider's words to them. */
export const PAYMENT_STATUSES = ['created', 'processing', 'hold', 'success', 'failure', 'expired', 'reversed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
