import { z } from 'zod';

/**
 * The echo service: a tiny external API used to prove the runtime's effect
 * guarantees. `POST /v1/echo` with an `Idempotency-Key` performs one side
 * effect per key and answers the same result for a repeated key.
 */
export const echoRequestSchema = z.object({ message: z.string().max(1000), sequence: z.number().int() }).strict();
export type EchoRequest = z.infer<typeof echoRequestSchema>;

export const echoResponseSchema = z.object({ reference: z.string().min(1), echoed: z.string() });
export type EchoResponse = z.infer<typeof echoResponseSchema>;

export const echoErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
