import axios, { type AxiosInstance } from 'axios';
import { EffectError, partnerErrorCode } from '../../../runtime/effects.ts';
import { echoErrorSchema, echoResponseSchema, type EchoRequest, type EchoResponse } from './protocol.ts';

export interface EchoClientOptions {
  baseUrl: string;
  timeoutMs?: number;
}

/** Typed client of the echo service; errors become EffectErrors with a retryable flag. */
export class EchoClient {
  private readonly http: AxiosInstance;

  constructor(options: EchoClientOptions) {
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs ?? 10_000,
      validateStatus: () => true,
    });
  }

  async echo(request: EchoRequest, idempotencyKey: string, signal?: AbortSignal): Promise<EchoResponse> {
    let response;
    try {
      response = await this.http.post('/v1/echo', request, { headers: { 'Idempotency-Key': idempotencyKey }, signal });
    } catch (error) {
      throw new EffectError('echo_unreachable', `echo service unreachable: ${(error as Error).message}`, true);
    }
    if (response.status >= 200 && response.status < 300) {
      const parsed = echoResponseSchema.safeParse(response.data);
      if (!parsed.success) throw new EffectError('echo_bad_response', 'echo service answered a malformed body', true);
      return parsed.data;
    }
    const body = echoErrorSchema.safeParse(response.data);
    const message = body.success ? body.data.error.message : `HTTP ${response.status}`;
    const retryable = response.status >= 500 || response.status === 429;
    // the echo service's own code when its error body gives one; else ours, from the status
    throw new EffectError(body.success ? partnerErrorCode(body.data.error.code) : `echo_http_${response.status}`, message, retryable);
  }
}
